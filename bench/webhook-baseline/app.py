"""The baseline `vectort-bench webhook` compares vectortd's Stripe webhook with: the stack such
platforms run today, a FastAPI handler under uvicorn that verifies the signature with the
official `stripe` library and records each event with its grant in SQLite (WAL,
synchronous=FULL), one transaction per event, a repeat of an event id changing nothing.

Environment: BASELINE_DB (the SQLite file), STRIPE_WEBHOOK_SECRET.
"""
import json
import os
import sqlite3

import stripe
from fastapi import FastAPI, Request, Response

DB = os.environ["BASELINE_DB"]
SECRET = os.environ["STRIPE_WEBHOOK_SECRET"]

app = FastAPI()
_local = {}


def connection() -> sqlite3.Connection:
    db = _local.get("db")
    if db is None:
        db = sqlite3.connect(DB, isolation_level=None, timeout=30)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        _local["db"] = db
    return db


@app.post("/api/webhook/stripe")
async def webhook(request: Request) -> Response:
    payload = await request.body()
    signature = request.headers.get("stripe-signature")
    try:
        event = stripe.Webhook.construct_event(payload, signature, SECRET)
    except (ValueError, stripe.SignatureVerificationError):
        return Response("bad signature", status_code=400)
    session = event["data"]["object"]
    user = session.get("client_reference_id") or "unknown"
    db = connection()
    db.execute("BEGIN IMMEDIATE")
    try:
        inserted = db.execute(
            "INSERT OR IGNORE INTO events(id, type, body) VALUES (?, ?, ?)",
            (event["id"], event["type"], payload),
        ).rowcount
        if inserted and event["type"] == "checkout.session.completed" and session.get("payment_status") == "paid":
            credits = int(session.get("metadata", {}).get("credits", "80"))
            db.execute(
                "INSERT INTO entries(user_id, amount, kind, reference) VALUES (?, ?, 'purchase', ?)",
                (user, credits, "payment:" + session["id"]),
            )
            db.execute(
                "INSERT INTO balances(user_id, balance) VALUES (?, ?) "
                "ON CONFLICT(user_id) DO UPDATE SET balance = balance + excluded.balance",
                (user, credits),
            )
        db.execute("COMMIT")
    except Exception:
        db.execute("ROLLBACK")
        raise
    return Response("ok", status_code=200)


def create_schema(path: str) -> None:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.executescript(
        """
        CREATE TABLE IF NOT EXISTS events (id TEXT PRIMARY KEY, type TEXT NOT NULL, body BLOB NOT NULL);
        CREATE TABLE IF NOT EXISTS entries (id INTEGER PRIMARY KEY, user_id TEXT NOT NULL, amount INTEGER NOT NULL,
            kind TEXT NOT NULL, reference TEXT);
        CREATE TABLE IF NOT EXISTS balances (user_id TEXT PRIMARY KEY, balance INTEGER NOT NULL);
        """
    )
    db.close()


if __name__ == "__main__":
    import sys

    create_schema(sys.argv[1])
    print(json.dumps({"schema": "ok"}))
