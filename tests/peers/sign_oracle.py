"""botocore as a signing oracle for the component's `prepare`.

Reads one case a line on standard input (JSON) and writes one answer a line:

    case:   {"region", "fips", "dualStack", "accessKeyId", "secretAccessKey",
             "sessionToken"?, "epochSeconds", "operation"? (default StartExecution),
             "params": {the operation's parameters},
             "request": {"method", "url", "headers": [[name, value], ...], "body"}}
    answer: {"url": botocore's endpoint for the region, FIPS and dual-stack settings, with
                    the operation's endpoint.hostPrefix from the model (StartSyncExecution's
                    "sync-") before the host, as botocore's clients put it
                    (or "urlError": why botocore's rule set refuses the combination),
             "body": the body botocore's own serializer writes for "params",
             "signed": {"X-Amz-Date", "X-Amz-Security-Token"?, "Authorization"},
             "headers": [[name in lower case, value], ...] sorted: the request botocore
                        itself sends}

"signed" is botocore's SigV4Auth over the component's own method, URL, headers and body
(without the headers SigV4 adds, and without content-length), at "epochSeconds": the same input the component signed.

"headers" owes nothing to the component's headers: botocore's StartExecution (or the case's
operation) serialiser writes the method, the path and its headers, the URL is botocore's
endpoint (or the case's "endpointUrl", for a stand-in), SigV4Auth signs them at
"epochSeconds", AWSRequest.prepare adds Content-Length, and Host is the URL's authority, as
urllib3 sends it. Only the body is the component's bytes (botocore's serialiser spaces JSON
differently; the bodies are compared as JSON values), so that the signatures can agree.
"""

import datetime
import json
import sys
import urllib.parse

import botocore.auth
import botocore.awsrequest
import botocore.credentials
import botocore.endpoint_provider
import botocore.exceptions
import botocore.serialize
import botocore.session

# Not signing input: SigV4 adds the first three, and content-length is set after signing,
# by botocore (AWSRequest.prepare) as by the component's transport.
NOT_SIGNED = {"x-amz-date", "x-amz-security-token", "authorization", "content-length"}

session = botocore.session.get_session()
service = session.get_service_model("stepfunctions")
serializer = botocore.serialize.create_serializer(service.metadata["protocol"])
# The endpoint rule set that botocore's clients (and every current AWS SDK) resolve with.
# A botocore client itself refuses some combinations the rule set allows (FIPS with
# dual-stack in aws-iso-f): its older endpoints.json data, used for the signing region, has
# no such variant there. The rule set is the authority, so it is asked directly.
loader = session.get_component("data_loader")
endpoints = botocore.endpoint_provider.EndpointProvider(
    loader.load_service_model("stepfunctions", "endpoint-rule-set-1"),
    loader.load_data("partitions"),
)


def botocore_request(case):
    """The URL and body botocore itself would send for these parameters."""
    operation = service.operation_model(case.get("operation", "StartExecution"))
    body = serializer.serialize_to_request(case["params"], operation)["body"]
    try:
        endpoint = endpoints.resolve_endpoint(
            Region=case["region"],
            UseFIPS=case["fips"],
            UseDualStack=case["dualStack"],
        )
    except botocore.exceptions.BotoCoreError as refused:
        return {"urlError": str(refused), "body": body.decode()}
    scheme, host = endpoint.url.split("://", 1)
    prefix = (operation.endpoint or {}).get("hostPrefix", "")
    url = f"{scheme}://{prefix}{host}" + operation.http["requestUri"]
    return {"url": url, "body": body.decode()}


def sign_at(request, case):
    """Signs `request` in place with SigV4 for the case's credentials, region and time."""
    credentials = botocore.credentials.Credentials(
        case["accessKeyId"], case["secretAccessKey"], case.get("sessionToken")
    )
    at = datetime.datetime.fromtimestamp(case["epochSeconds"], datetime.timezone.utc)
    original = botocore.auth.get_current_datetime
    botocore.auth.get_current_datetime = lambda *_, **__: at.replace(tzinfo=None)
    try:
        botocore.auth.SigV4Auth(credentials, "states", case["region"]).add_auth(request)
    finally:
        botocore.auth.get_current_datetime = original


def sign(case):
    ours = case["request"]
    request = botocore.awsrequest.AWSRequest(
        method=ours["method"],
        url=ours["url"],
        headers={k: v for k, v in ours["headers"] if k not in NOT_SIGNED},
        data=ours["body"].encode(),
    )
    sign_at(request, case)
    names = ["X-Amz-Date", "X-Amz-Security-Token", "Authorization"]
    return {name: request.headers[name] for name in names if name in request.headers}


def own_request(case, url):
    """The headers of the request botocore builds and signs itself for the case."""
    operation = service.operation_model(case.get("operation", "StartExecution"))
    serialized = serializer.serialize_to_request(case["params"], operation)
    base = case.get("endpointUrl") or url.rsplit("/", 1)[0]
    request = botocore.awsrequest.AWSRequest(
        method=serialized["method"],
        url=base + serialized["url_path"],
        headers=dict(serialized["headers"]),
        data=case["request"]["body"].encode(),
    )
    sign_at(request, case)
    prepared = request.prepare()
    headers = [[k.lower(), v] for k, v in prepared.headers.items()]
    headers.append(["host", urllib.parse.urlsplit(prepared.url).netloc])
    return sorted(headers)


def main():
    for line in sys.stdin:
        case = json.loads(line)
        answer = botocore_request(case)
        answer["signed"] = sign(case)
        if "url" in answer or "endpointUrl" in case:
            answer["headers"] = own_request(case, answer.get("url", ""))
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()
