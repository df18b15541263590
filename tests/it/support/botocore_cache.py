#!/usr/bin/env python3
"""Writes an AWS CLI assume-role cache entry with botocore's own code, as the CLI would.

usage: botocore_cache.py CACHE_DIR ROLE_ARN SERIAL ACCESS_KEY_ID SECRET SESSION_TOKEN
                         EXPIRATION_ISO [DURATION_SECONDS]

CACHE_DIR is the CLI's cache (~/.aws/cli/cache). SERIAL is the profile's mfa_serial, or ""
for none. EXPIRATION_ISO is when the credentials expire, e.g. 2099-01-01T00:00:00Z.
DURATION_SECONDS is the profile's duration_seconds, if it has one.

botocore's AssumeRoleCredentialFetcher runs its own fetch path against a stand-in STS client
(no network): it computes the cache key from the AssumeRole arguments (RoleArn, SerialNumber,
DurationSeconds; the generated session name and the MFA code are not in it), calls
assume_role, adds AccountId and writes <CACHE_DIR>/<key>.json through JSONFileCache. The
Expiration is handed over as a datetime, as botocore's parser makes of the STS reply, so the
file has the CLI's own timestamp format (2099-01-01T00:00:00UTC).

Prints the key (the file name without .json). Exit status 3 if botocore cannot be imported.
"""

import sys

try:
    import botocore
    from botocore.credentials import AssumeRoleCredentialFetcher, Credentials
    from botocore.utils import JSONFileCache, parse_timestamp
except ImportError as e:
    print(f"botocore is not importable: {e}", file=sys.stderr)
    sys.exit(3)

TOKEN_CODE = "123456"


def main(argv):
    if len(argv) not in (8, 9):
        print(__doc__, file=sys.stderr)
        return 2
    cache_dir, role_arn, serial, key_id, secret, token, expiration = argv[1:8]
    duration = int(argv[8]) if len(argv) == 9 and argv[8] != "" else None

    extra_args = {}
    if serial:
        extra_args["SerialNumber"] = serial
    if duration is not None:
        extra_args["DurationSeconds"] = duration

    # arn:aws:iam::ACCOUNT:role/PATH/NAME -> arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION
    fields = role_arn.split(":", 5)
    account = fields[4] if len(fields) == 6 else "123456789012"
    partition = fields[1] if len(fields) == 6 else "aws"
    role_name = fields[5].rsplit("/", 1)[-1] if len(fields) == 6 else "role"
    calls = []

    class StandInSts:
        def assume_role(self, **kwargs):
            calls.append(kwargs)
            session = kwargs["RoleSessionName"]
            return {
                "Credentials": {
                    "AccessKeyId": key_id,
                    "SecretAccessKey": secret,
                    "SessionToken": token,
                    # What botocore's response parser makes of <Expiration>.
                    "Expiration": parse_timestamp(expiration),
                },
                "AssumedRoleUser": {
                    "AssumedRoleId": f"AROAFAKEROLE00000001:{session}",
                    "Arn": f"arn:{partition}:sts::{account}:assumed-role/{role_name}/{session}",
                },
                "ResponseMetadata": {
                    "RequestId": "00000000-0000-0000-0000-000000000000",
                    "HTTPStatusCode": 200,
                    "HTTPHeaders": {},
                    "RetryAttempts": 0,
                },
            }

    cache = JSONFileCache(cache_dir)
    fetcher = AssumeRoleCredentialFetcher(
        client_creator=lambda *args, **kwargs: StandInSts(),
        source_credentials=Credentials("AKIASOURCEEXAMPLE", "source-secret"),
        role_arn=role_arn,
        extra_args=extra_args,
        mfa_prompter=lambda prompt: TOKEN_CODE,
        cache=cache,
    )
    key = fetcher._cache_key
    # fetch_credentials() reads a still-valid entry instead of writing: start from none.
    if key in cache:
        try:
            del cache[key]
        except (KeyError, TypeError, AttributeError):
            import os

            os.remove(os.path.join(cache_dir, key + ".json"))
    fetcher.fetch_credentials()
    if len(calls) != 1:
        print(f"botocore made {len(calls)} AssumeRole calls, not 1", file=sys.stderr)
        return 1
    if serial and calls[0].get("TokenCode") != TOKEN_CODE:
        print("botocore did not send the MFA code", file=sys.stderr)
        return 1
    print(key)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
