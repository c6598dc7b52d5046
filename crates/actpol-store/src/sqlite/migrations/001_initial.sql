-- Version 1 of the actpol store.

-- The decision log: one hash-chained record per decision, commit, release,
-- expiry, approval and rejection. `record` is the canonical JSON that is
-- hashed; the columns beside it are derived from it, for filtering and
-- precedent, and verification holds them to it.
CREATE TABLE log (
    seq    INTEGER PRIMARY KEY,
    kind   TEXT    NOT NULL,
    at     INTEGER NOT NULL,
    agent  TEXT,
    action TEXT,
    level  TEXT,
    rules  TEXT,
    object TEXT,
    record TEXT    NOT NULL,
    prev   TEXT    NOT NULL,
    hash   TEXT    NOT NULL
);
CREATE INDEX log_precedent ON log (action, rules, seq) WHERE kind = 'decision';

-- The last position and hash, written with every record: a truncated log
-- no longer reaches it.
CREATE TABLE head (
    one  INTEGER PRIMARY KEY CHECK (one = 1),
    seq  INTEGER NOT NULL,
    hash TEXT    NOT NULL
);

-- What proceeding decisions hold, and the actions windows count: held and
-- committed reservations count, released ones do not.
CREATE TABLE reservations (
    id         INTEGER PRIMARY KEY,
    decision   INTEGER NOT NULL,
    state      TEXT    NOT NULL,
    ended      TEXT,
    at         INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    action     TEXT    NOT NULL,
    k_agent    TEXT    NOT NULL,
    k_workflow TEXT    NOT NULL,
    k_owner    TEXT    NOT NULL,
    k_object   TEXT    NOT NULL,
    k_plan     TEXT,
    -- Numeric parameters as {"name": "decimal"}, for `sum` windows.
    amounts    TEXT    NOT NULL,
    -- The budget amounts held, as [{budget, key, window_start, window_end, amount}].
    holds      TEXT    NOT NULL
);
CREATE INDEX reservations_due ON reservations (expires_at) WHERE state = 'held';
-- Windows read this history by key: the first time a policy reads windows
-- by a key kind, the store builds that kind's index, `window_<kind>` on
-- (k_<kind>, at, action, state) WHERE state != 'released', and the triggers
-- that keep that kind's counts in `window_counts`. A kind no window reads
-- costs nothing per reservation.

-- How many reservations not released each key has per action and per
-- minute (span 60000) and per hour (span 3600000) of `at`: a window counts
-- its whole hours and minutes here, and reads only its partial minutes at
-- either end from the index. Triggers on `reservations` keep it, whichever
-- process writes.
CREATE TABLE window_counts (
    key    TEXT    NOT NULL,
    span   INTEGER NOT NULL,
    bucket INTEGER NOT NULL,
    action TEXT    NOT NULL,
    n      INTEGER NOT NULL,
    PRIMARY KEY (key, span, bucket, action)
) WITHOUT ROWID;

-- Budget consumption per budget, key and calendar window: held and
-- committed amounts together, as exact decimals.
CREATE TABLE counters (
    budget       TEXT    NOT NULL,
    key          TEXT    NOT NULL,
    window_start INTEGER NOT NULL,
    -- When the window ends (exclusive): past windows can be pruned.
    window_end   INTEGER NOT NULL,
    consumed     TEXT    NOT NULL,
    PRIMARY KEY (budget, key, window_start)
) WITHOUT ROWID;

-- Approvals: pending until the approver decides, then granted or rejected;
-- a granted one is used once. Expiry is read against the clock.
CREATE TABLE approvals (
    id            INTEGER PRIMARY KEY,
    decision      INTEGER NOT NULL,
    approver      TEXT    NOT NULL,
    envelope_hash TEXT    NOT NULL,
    -- What the escalation asked to let through: {"rules": [...], "budgets": [...]}.
    grounds       TEXT    NOT NULL,
    status        TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    decided_by    TEXT,
    decided_at    INTEGER,
    note          TEXT,
    used_by       INTEGER
);
CREATE INDEX approvals_decision ON approvals (decision);
CREATE INDEX approvals_used_by ON approvals (used_by) WHERE used_by IS NOT NULL;
