/* Debian 12's wine (8.0) has no bcryptprimitives.dll, which Rust's standard library
   (1.78 and later) imports ProcessPrng from, and AWS-LC loads at run time; wine 9 has it.
   For the tests under wine only (never shipped): ProcessPrng over BCryptGenRandom. */
#include <windows.h>
#include <bcrypt.h>

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
    while (len > 0) {
        ULONG n = len > 0x10000000 ? 0x10000000 : (ULONG)len;
        if (!BCRYPT_SUCCESS(BCryptGenRandom(NULL, data, n, BCRYPT_USE_SYSTEM_PREFERRED_RNG))) {
            return FALSE;
        }
        data += n;
        len -= n;
    }
    return TRUE;
}
