"""Signs the requests described in a JSON file with botocore, for comparison with tfreg's SigV4.

Input: a list of cases {method, host, path (wire form), query (wire form), headers [[n, v]], body,
service, region, access_key, secret_key, token, amz_date, presign_expires (or null)}.
Output (stdout): a list of {canonical_request, signature, authorization, presigned_query}.
"""
import datetime
import json
import sys
from unittest import mock

from botocore import auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


def sign(case):
    creds = Credentials(case["access_key"], case["secret_key"], case.get("token"))
    url = "https://" + case["host"] + case["path"] + ("?" + case["query"] if case["query"] else "")
    headers = {name: value for name, value in case["headers"]}
    request = AWSRequest(method=case["method"], url=url, headers=headers, data=case["body"].encode())
    s3 = case["service"] == "s3"
    now = datetime.datetime.strptime(case["amz_date"], "%Y%m%dT%H%M%SZ")
    with mock.patch.object(auth, "get_current_datetime", return_value=now):
        if case.get("presign_expires") is not None:
            cls = auth.S3SigV4QueryAuth if s3 else auth.SigV4QueryAuth
            signer = cls(creds, case["service"], case["region"], expires=case["presign_expires"])
            signer.add_auth(request)
            query = request.url.split("?", 1)[1]
            return {"presigned_query": query}
        cls = auth.S3SigV4Auth if s3 else auth.SigV4Auth
        signer = cls(creds, case["service"], case["region"])
        if s3:
            request.context["payload_signing_enabled"] = True
        signer.add_auth(request)
        request.context["timestamp"] = case["amz_date"]
        return {
            "canonical_request": signer.canonical_request(request),
            "authorization": request.headers["Authorization"],
        }


cases = json.load(open(sys.argv[1]))
json.dump([sign(c) for c in cases], sys.stdout)
