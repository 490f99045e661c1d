"""The baseline `vectort-bench api` compares vectortd's web API with: the stack such platforms run
today, FastAPI under uvicorn (2 workers) with python-jose sessions, over the same SQLite data
(a copy of the daemon's database: the same users, scrypt hashes and balances).

POST /api/auth/login verifies the scrypt hash (hashlib, the same parameters) and signs an HS256
JWT; GET /api/credits/balance verifies the bearer JWT, checks that its user is active and the
session not revoked (one query, as vectortd does), and sums the user's credit buckets.

Environment: BASELINE_DB (the SQLite file), JWT_SECRET.
"""
import base64
import hashlib
import hmac
import os
import sqlite3
import time
import uuid

from fastapi import FastAPI, Header, HTTPException, Request
from jose import JWTError, jwt

DB = os.environ["BASELINE_DB"]
SECRET = os.environ["JWT_SECRET"]

app = FastAPI()
_local = {}


def connection() -> sqlite3.Connection:
    db = _local.get("db")
    if db is None:
        db = sqlite3.connect(DB, isolation_level=None, timeout=30, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        _local["db"] = db
    return db


def verify(password: str, stored: str) -> bool:
    parts = stored.split("$")
    if len(parts) != 6 or parts[0] != "scrypt":
        return False
    n, r, p = int(parts[1]), int(parts[2]), int(parts[3])
    salt, expected = base64.b64decode(parts[4]), base64.b64decode(parts[5])
    key = hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, dklen=len(expected), maxmem=64 * 1024 * 1024)
    return hmac.compare_digest(key, expected)


@app.post("/api/auth/login")
async def login(request: Request):
    body = await request.json()
    email = str(body.get("email", "")).strip().lower()
    row = connection().execute("SELECT id, password_hash, status FROM users WHERE email_key = ?", (email,)).fetchone()
    if row is None or row[1] is None or row[2] != "active" or not verify(str(body.get("password", "")), row[1]):
        raise HTTPException(status_code=401, detail="wrong email or password")
    now = int(time.time())
    token = jwt.encode({"sub": row[0], "jti": uuid.uuid4().hex, "iat": now, "exp": now + 86400}, SECRET, algorithm="HS256")
    return {"token": token, "token_type": "bearer", "expires_at": now + 86400}


@app.get("/api/credits/balance")
async def balance(authorization: str = Header(default="")):
    if not authorization.lower().startswith("bearer "):
        raise HTTPException(status_code=401, detail="sign in first")
    try:
        claims = jwt.decode(authorization[7:], SECRET, algorithms=["HS256"])
    except JWTError:
        raise HTTPException(status_code=401, detail="the session token is not valid")
    db = connection()
    row = db.execute(
        "SELECT status, EXISTS (SELECT 1 FROM revoked_sessions WHERE id = ?) FROM users WHERE id = ?",
        (claims.get("jti"), claims.get("sub")),
    ).fetchone()
    if row is None or row[0] != "active" or row[1]:
        raise HTTPException(status_code=401, detail="the session has ended")
    buckets = dict(db.execute("SELECT bucket, balance FROM credit_balances WHERE user_id = ?", (claims["sub"],)).fetchall())
    return {"user": claims["sub"], "total": sum(buckets.values()), "buckets": buckets}


@app.get("/healthz")
async def healthz():
    return {"status": "ok"}
