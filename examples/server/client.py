#!/usr/bin/env python3
"""A client of `actpol serve`, using only Python's standard library.

It walks one escalated action through its whole life:

  decide -> escalate -> approve -> resubmit -> allow -> commit

    python3 examples/server/client.py --url http://127.0.0.1:8181 \
        --envelope envelope.json --approver growth-lead \
        [--agent-token TOKEN --approver-token TOKEN]

The envelope's `time` is set to now (the server checks it against its
clock). Exits 0 when every step went as expected, 1 otherwise.
"""

import argparse
import datetime
import json
import sys
import urllib.error
import urllib.request


class ApiError(Exception):
    """An answer with an error status: its code, message and help."""

    def __init__(self, status, body):
        error = body.get("error", {}) if isinstance(body, dict) else {}
        self.status = status
        self.code = error.get("code", "")
        super().__init__(f"{status} {self.code}: {error.get('message', body)}")


class Actpol:
    """The decision server's API."""

    def __init__(self, url, token=None, timeout=10):
        self.url = url.rstrip("/")
        self.token = token
        self.timeout = timeout

    def call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method)
        request.add_header("Accept", "application/json")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                return json.loads(answer.read())
        except urllib.error.HTTPError as failed:
            raw = failed.read()
            try:
                body = json.loads(raw)
            except ValueError:
                body = raw.decode(errors="replace")
            raise ApiError(failed.code, body) from None

    def decide(self, envelope):
        return self.call("POST", "/v1/decide", envelope)

    def approvals(self, status="pending"):
        return self.call("GET", f"/v1/approvals?status={status}")

    def approve(self, approval, by=None, note=None):
        body = {k: v for k, v in (("by", by), ("note", note)) if v is not None}
        return self.call("POST", f"/v1/approvals/{approval}/approve", body)

    def commit(self, reservation):
        return self.call("POST", f"/v1/reservations/{reservation}/commit")


def now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def expect(what, got, wanted):
    print(f"  {what}: {got}")
    if got != wanted:
        raise SystemExit(f"expected {what} to be {wanted!r}, got {got!r}")


def walk(args):
    with open(args.envelope, encoding="utf-8") as f:
        envelope = json.load(f)
    envelope["time"] = now()
    agent = Actpol(args.url, args.agent_token)
    approver = Actpol(args.url, args.approver_token)

    print("1. decide")
    first = agent.decide(envelope)
    expect("decision", first["decision"], "escalate")
    approval = first["approval"]["id"]
    print(f"  waits on {approval} for {first['escalation']['approver']}")

    print("2. the approver sees it pending, and approves")
    pending = [a["id"] for a in approver.approvals("pending")]
    expect(f"{approval} pending", approval in pending, True)
    by = None if args.approver_token else args.approver
    granted = approver.approve(approval, by=by, note="walkthrough: checked")
    expect("approval", granted["status"], "granted")

    print("3. resubmit the same envelope with the approval")
    envelope["approval"] = approval
    envelope["time"] = now()
    second = agent.decide(envelope)
    expect("decision", second["decision"], "allow")
    expect("approval used", second["approval"]["status"], "used")

    print("4. the action ran: commit what it reserved")
    for reservation in second.get("reservations", []):
        committed = agent.commit(reservation)
        expect(reservation, committed["state"], "committed")
    print(f"done: {first['id']} escalated, {second['id']} allowed and committed")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8181")
    parser.add_argument("--envelope", required=True, help="an envelope the policy escalates")
    parser.add_argument("--approver", help="the approver the escalation names (without tokens)")
    parser.add_argument("--agent-token")
    parser.add_argument("--approver-token")
    args = parser.parse_args()
    try:
        walk(args)
    except ApiError as failed:
        print(f"error: {failed}", file=sys.stderr)
        return 1
    except SystemExit as failed:
        print(f"error: {failed}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
