"""botocore's standard retry mode as an oracle for the core's retry classification.

Prints one JSON object, read from the botocore installed next to this interpreter (its
`botocore/retries/standard.py` and the Step Functions model), not from anything of ours:

    {"throttlingCodes": ThrottledRetryableChecker's codes,
     "transientCodes": TransientRetryableChecker's codes,
     "transientStatuses": TransientRetryableChecker's statuses,
     "throttlingStatuses": ThrottlingStatusCodeChecker's statuses,
     "modeled": {code: whether the model marks it retryable, for every error shape of
                 StartExecution, DescribeExecution and StartSyncExecution},
     "botocore": botocore's version}
"""

import json

import botocore
import botocore.session
from botocore.retries import standard


def main():
    service = botocore.session.get_session().get_service_model("stepfunctions")
    modeled = {}
    for name in ("StartExecution", "DescribeExecution", "StartSyncExecution"):
        for shape in service.operation_model(name).error_shapes:
            code = shape.metadata.get("error", {}).get("code") or shape.name
            modeled[code] = shape.metadata.get("retryable") is not None
    print(
        json.dumps(
            {
                "throttlingCodes": standard.ThrottledRetryableChecker._THROTTLED_ERROR_CODES,
                "transientCodes": standard.TransientRetryableChecker._TRANSIENT_ERROR_CODES,
                "transientStatuses": standard.TransientRetryableChecker._TRANSIENT_STATUS_CODES,
                "throttlingStatuses": standard.ThrottlingStatusCodeChecker._THROTTLING_STATUS_CODES,
                "modeled": modeled,
                "botocore": botocore.__version__,
            }
        )
    )


if __name__ == "__main__":
    main()
