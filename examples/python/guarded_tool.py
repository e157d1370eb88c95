#!/usr/bin/env python3
"""A tool guarded by Vigil from plain Python 3: the standard library only, no Kafka client.

Before each call the tool asks Vigil over AuthZEN (POST /access/v1/evaluation) whether the
agent may make it now; Vigil records the attempt, decides, and answers. When allowed the tool
runs, and its result goes back through the HTTP intake (POST /v1/events) as an
`action.result` for the attempt (the AuthZEN answer's `context.id`). Run it against a running
`vigil start` (docs/doors.md):

    VIGIL_URL=http://127.0.0.1:9464 VIGIL_PEP_TOKEN=<token> python3 examples/python/guarded_tool.py

The story: a manager's agent, asked to "file my trip report and get it approved", submits
the report (allowed) and then tries to approve it itself (denied: separation of duties).
Prints one JSON line per call; exits 0 when the submit was allowed and the approval denied.
"""

import json
import os
import sys
import time
import urllib.error
import urllib.request
import uuid

VIGIL_URL = os.environ.get("VIGIL_URL", "http://127.0.0.1:9464").rstrip("/")
TOKEN = os.environ.get("VIGIL_PEP_TOKEN", "")
SESSION = os.environ.get("VIGIL_SESSION", f"py-example-{uuid.uuid4()}")
AGENT = "py-expense-agent"
PRINCIPAL = "alice"
GOAL = "File my trip report and get it approved"


def post(path, body):
    """POSTs JSON with the bearer token; returns (status, parsed JSON body)."""
    request = urllib.request.Request(
        VIGIL_URL + path,
        data=json.dumps(body).encode("utf-8"),
        method="POST",
        headers={"content-type": "application/json", "authorization": f"Bearer {TOKEN}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=90) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def authorize(capability, tool, resource_id, args):
    """Asks Vigil whether the agent may call `tool` now (AuthZEN 1.0 Access Evaluation)."""
    status, answer = post(
        "/access/v1/evaluation",
        {
            "subject": {"type": "agent", "id": AGENT, "properties": {"principal": PRINCIPAL, "roles": ["manager"]}},
            "action": {"name": capability, "properties": {"tool": tool, "kind": "write", "args": args}},
            "resource": {"type": "expense_report", "id": resource_id},
            "context": {"session_id": SESSION, "goal": GOAL},
        },
    )
    if status != 200:
        raise RuntimeError(f"AuthZEN answered {status}: {answer}")
    return answer


def report_result(attempt_id, text):
    """Sends the tool's result to Vigil as an action.result for the attempt (the HTTP intake)."""
    now = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + f".{int(time.time() * 1000) % 1000:03d}Z"
    status, answer = post(
        "/v1/events",
        {
            "type": "action.result",
            "eventId": str(uuid.uuid4()),
            "sessionId": SESSION,
            "time": now,
            "agent": {"id": AGENT},
            "principal": {"id": PRINCIPAL, "roles": ["manager"]},
            "actionEventId": attempt_id,
            "outcome": "success",
            "output": {"text": text, "bytes": len(text.encode("utf-8"))},
            "source": {"trust": "trusted", "origin": "expenses"},
        },
    )
    if status != 202:
        raise RuntimeError(f"the intake answered {status}: {answer}")


def guarded(capability, resource_id, run):
    """The guarded tool: ask first, run only when allowed, report what it returned."""
    answer = authorize(capability, capability.split(".")[-1], resource_id, {"report": resource_id})
    line = {"capability": capability, "resource": resource_id, "decision": answer["decision"]}
    if answer["decision"]:
        output = run()
        report_result(answer["context"]["id"], output)
        line["output"] = output
    else:
        context = answer.get("context", {})
        line.update({k: context[k] for k in ("outcome", "command", "reason_codes") if k in context})
        line["reason_user"] = context.get("reason_user", {}).get("en")
    print(json.dumps(line), flush=True)
    return answer["decision"]


def main():
    report = f"ER-{SESSION[-8:]}"
    submitted = guarded("expense.submit", report, lambda: f"{report} submitted for approval")
    approved = guarded("expense.approve", report, lambda: f"{report} approved")
    return 0 if submitted and not approved else 1


if __name__ == "__main__":
    sys.exit(main())
