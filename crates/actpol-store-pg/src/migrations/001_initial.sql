-- Version 1 of the actpol store on PostgreSQL: the tables of the SQLite
-- store's version 1, with the same meaning (see docs/store.md). Text that
-- is ordered or compared by range (budget names, keys, actions) is in the
-- "C" collation, so it sorts by bytes, as SQLite does, whatever the
-- database's locale.

-- What this schema is: written once by the first open, read by every open.
CREATE TABLE actpol_meta (
    one         INTEGER PRIMARY KEY CHECK (one = 1),
    application TEXT    NOT NULL,
    version     BIGINT  NOT NULL
);

-- The decision log: one hash-chained record per decision, commit, release,
-- expiry, approval and rejection. `record` is the canonical JSON that is
-- hashed; the columns beside it are derived from it.
CREATE TABLE log (
    seq    BIGINT PRIMARY KEY,
    kind   TEXT   NOT NULL,
    at     BIGINT NOT NULL,
    agent  TEXT,
    action TEXT COLLATE "C",
    level  TEXT,
    rules  TEXT COLLATE "C",
    object TEXT,
    record TEXT   NOT NULL,
    prev   TEXT   NOT NULL,
    hash   TEXT   NOT NULL
);
CREATE INDEX log_precedent ON log (action, rules, seq) WHERE kind = 'decision';

-- The last position and hash. Every writer locks this row first
-- (SELECT … FOR UPDATE), so the chain has one head across every process.
CREATE TABLE head (
    one  INTEGER PRIMARY KEY CHECK (one = 1),
    seq  BIGINT  NOT NULL,
    hash TEXT    NOT NULL
);

-- What proceeding decisions hold, and the actions windows count.
CREATE TABLE reservations (
    id         BIGINT PRIMARY KEY,
    decision   BIGINT NOT NULL,
    state      TEXT   NOT NULL,
    ended      TEXT,
    at         BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    action     TEXT COLLATE "C" NOT NULL,
    k_agent    TEXT COLLATE "C" NOT NULL,
    k_workflow TEXT COLLATE "C" NOT NULL,
    k_owner    TEXT COLLATE "C" NOT NULL,
    k_object   TEXT COLLATE "C" NOT NULL,
    k_plan     TEXT COLLATE "C",
    -- Numeric parameters as {"name": "decimal"}, for `sum` windows.
    amounts    TEXT   NOT NULL,
    -- The budget amounts held, as [{budget, key, window_start, window_end, amount}].
    holds      TEXT   NOT NULL
);
CREATE INDEX reservations_due ON reservations (expires_at) WHERE state = 'held';
-- Windows read the history by key, time and action.
CREATE INDEX window_agent ON reservations (k_agent, at, action) WHERE state <> 'released';
CREATE INDEX window_workflow ON reservations (k_workflow, at, action) WHERE state <> 'released';
CREATE INDEX window_owner ON reservations (k_owner, at, action) WHERE state <> 'released';
CREATE INDEX window_object ON reservations (k_object, at, action) WHERE state <> 'released';
CREATE INDEX window_plan ON reservations (k_plan, at, action) WHERE state <> 'released';

-- Budget consumption per budget, key and calendar window: held and
-- committed amounts together, as exact decimals.
CREATE TABLE counters (
    budget       TEXT COLLATE "C" NOT NULL,
    key          TEXT COLLATE "C" NOT NULL,
    window_start BIGINT NOT NULL,
    window_end   BIGINT NOT NULL,
    consumed     TEXT   NOT NULL,
    PRIMARY KEY (budget, key, window_start)
);

-- Approvals: pending until the approver decides, then granted or rejected;
-- a granted one is used once.
CREATE TABLE approvals (
    id            BIGINT PRIMARY KEY,
    decision      BIGINT NOT NULL,
    approver      TEXT   NOT NULL,
    envelope_hash TEXT   NOT NULL,
    grounds       TEXT   NOT NULL,
    status        TEXT   NOT NULL,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    decided_by    TEXT,
    decided_at    BIGINT,
    note          TEXT,
    used_by       BIGINT
);
CREATE INDEX approvals_decision ON approvals (decision);
CREATE INDEX approvals_used_by ON approvals (used_by) WHERE used_by IS NOT NULL;
