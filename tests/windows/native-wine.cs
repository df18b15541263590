// A stand-in for `wine` on Windows itself, so that the windows:: tests (tests/it/windows.rs),
// written to run the .exe files through wine on Linux, run them natively in CI
// (.github/workflows/ci.yml). `wine PROGRAM ARGS...` runs PROGRAM ARGS... with the same
// standard handles and exits with its exit code: the rest of the command line after our own
// name is passed on verbatim, so the quoting the tests' process spawner chose is kept.
//
// The tests clear the environment (Sandbox::command_of) and set only their own variables;
// without SystemRoot, Windows cannot load Winsock's providers (the full binary's HTTP to the
// fake ECR endpoint), so it is put back, as wine itself supplies it.
//
// Built with the .NET Framework's C# 5 compiler, which every Windows has:
//   %WINDIR%\Microsoft.NET\Framework64\v4.0.30319\csc.exe -nologo -out:wine.exe native-wine.cs
using System;
using System.Runtime.InteropServices;
using System.Text;

static class NativeWine
{
    [StructLayout(LayoutKind.Sequential, CharSet = CharSet.Unicode)]
    struct StartupInfo
    {
        public int cb;
        public string lpReserved, lpDesktop, lpTitle;
        public int dwX, dwY, dwXSize, dwYSize, dwXCountChars, dwYCountChars, dwFillAttribute;
        public int dwFlags;
        public short wShowWindow, cbReserved2;
        public IntPtr lpReserved2, hStdInput, hStdOutput, hStdError;
    }

    [StructLayout(LayoutKind.Sequential)]
    struct ProcessInformation
    {
        public IntPtr hProcess, hThread;
        public int dwProcessId, dwThreadId;
    }

    const int StartfUseStdHandles = 0x100;
    const uint Infinite = 0xFFFFFFFF;

    [DllImport("kernel32.dll", SetLastError = true, CharSet = CharSet.Unicode)]
    static extern bool CreateProcessW(string application, StringBuilder commandLine,
        IntPtr processAttributes, IntPtr threadAttributes, bool inheritHandles, uint flags,
        IntPtr environment, string directory, ref StartupInfo startup,
        out ProcessInformation process);

    [DllImport("kernel32.dll")]
    static extern IntPtr GetCommandLineW();

    [DllImport("kernel32.dll")]
    static extern IntPtr GetStdHandle(int which);

    [DllImport("kernel32.dll")]
    static extern uint WaitForSingleObject(IntPtr handle, uint milliseconds);

    [DllImport("kernel32.dll")]
    static extern bool GetExitCodeProcess(IntPtr process, out uint code);

    // The command line after its first argument, which (as the program name) ends at the
    // first space or tab outside double quotes.
    static string AfterFirstArgument(string line)
    {
        int i = 0;
        bool quoted = false;
        while (i < line.Length && (quoted || (line[i] != ' ' && line[i] != '\t')))
        {
            if (line[i] == '"') quoted = !quoted;
            i++;
        }
        while (i < line.Length && (line[i] == ' ' || line[i] == '\t')) i++;
        return line.Substring(i);
    }

    static int Main()
    {
        string rest = AfterFirstArgument(Marshal.PtrToStringUni(GetCommandLineW()));
        if (rest.Length == 0)
        {
            Console.Error.WriteLine("native-wine: usage: wine PROGRAM [ARGS...]");
            return 2;
        }
        string windows = Environment.GetFolderPath(Environment.SpecialFolder.Windows);
        foreach (string name in new string[] { "SystemRoot", "windir" })
        {
            if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable(name)))
                Environment.SetEnvironmentVariable(name, windows);
        }

        StartupInfo startup = new StartupInfo();
        startup.cb = Marshal.SizeOf(typeof(StartupInfo));
        startup.dwFlags = StartfUseStdHandles;
        startup.hStdInput = GetStdHandle(-10);
        startup.hStdOutput = GetStdHandle(-11);
        startup.hStdError = GetStdHandle(-12);
        ProcessInformation process;
        if (!CreateProcessW(null, new StringBuilder(rest), IntPtr.Zero, IntPtr.Zero, true, 0,
                IntPtr.Zero, null, ref startup, out process))
        {
            Console.Error.WriteLine("native-wine: cannot start " + rest + ": error " +
                Marshal.GetLastWin32Error());
            return 126;
        }
        WaitForSingleObject(process.hProcess, Infinite);
        uint code;
        GetExitCodeProcess(process.hProcess, out code);
        return unchecked((int)code);
    }
}
