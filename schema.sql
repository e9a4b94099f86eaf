-- Rollcall's whole schema. Applied at every start; every statement is idempotent.
-- PRAGMA user_version holds the schema version (src/store/db.rs: SCHEMA_VERSION).
-- Timestamps are INTEGER Unix seconds (UTC); money is INTEGER minor units + currency.

CREATE TABLE IF NOT EXISTS settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS users (
    id                 INTEGER PRIMARY KEY,
    username           TEXT NOT NULL UNIQUE,
    email              TEXT NOT NULL UNIQUE COLLATE NOCASE,
    password_hash      TEXT,               -- argon2id PHC or Django pbkdf2_sha256; NULL = no password
    name               TEXT NOT NULL DEFAULT '',
    first_name         TEXT NOT NULL DEFAULT '',
    last_name          TEXT NOT NULL DEFAULT '',
    country            TEXT,
    city               TEXT,
    gender             TEXT,
    level_of_education TEXT,
    year_of_birth      INTEGER,
    mailing_address    TEXT,
    language           TEXT,
    goals              TEXT,
    bio                TEXT,
    phone              TEXT,
    date_of_birth      TEXT,
    is_active          INTEGER NOT NULL DEFAULT 1,
    is_staff           INTEGER NOT NULL DEFAULT 0,
    is_superuser       INTEGER NOT NULL DEFAULT 0,
    date_joined        INTEGER NOT NULL,
    last_login         INTEGER,
    -- Tokens issued before this (a password change, a deactivation) are refused.
    credentials_valid_after INTEGER NOT NULL DEFAULT 0,
    -- Username::similarity_key (NFKC, lower case, TR39 skeleton): look-alikes share it.
    username_key       TEXT
);

-- Custom registration fields (Appsembler's extra fields, Open edX extended_profile).
CREATE TABLE IF NOT EXISTS user_custom_fields (
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    key     TEXT NOT NULL,
    value   TEXT NOT NULL,
    PRIMARY KEY (user_id, key)
);

CREATE TABLE IF NOT EXISTS oauth_clients (
    id          INTEGER PRIMARY KEY,
    client_id   TEXT NOT NULL UNIQUE,
    secret_hash TEXT NOT NULL,             -- SHA-256 of a 256-bit random secret
    name        TEXT NOT NULL,
    user_id     INTEGER NOT NULL REFERENCES users(id),
    created     INTEGER NOT NULL,
    -- A public client (a mobile app, an SPA) has no secret that stays secret: the
    -- password grant then needs none; client credentials stay confidential-only.
    public      INTEGER NOT NULL DEFAULT 0
);

-- Refresh tokens of the password grant (SHA-256 only), each exchanged once for a new pair.
-- access_token_hash ties an opaque access token to its refresh token: revoking either
-- ends both.
CREATE TABLE IF NOT EXISTS refresh_tokens (
    id                INTEGER PRIMARY KEY,
    token_hash        TEXT NOT NULL UNIQUE,
    client_id         INTEGER NOT NULL REFERENCES oauth_clients(id) ON DELETE CASCADE,
    user_id           INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    scope             TEXT NOT NULL,
    token_type        TEXT NOT NULL,
    access_token_hash TEXT,
    created           INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS refresh_tokens_by_user ON refresh_tokens(user_id);

CREATE TABLE IF NOT EXISTS access_tokens (
    id         INTEGER PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,       -- SHA-256 of the opaque token; the token is never stored
    client_id  INTEGER NOT NULL REFERENCES oauth_clients(id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    scope      TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked    INTEGER NOT NULL DEFAULT 0,
    created    INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS sessions (
    id_hash    TEXT PRIMARY KEY,           -- SHA-256 of the cookie value
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    created    INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS courses (
    id               INTEGER PRIMARY KEY,
    course_key       TEXT NOT NULL UNIQUE,
    code             TEXT,
    title            TEXT NOT NULL,
    level            TEXT,
    duration_hours   INTEGER,
    price_minor      INTEGER NOT NULL DEFAULT 0,
    currency         TEXT NOT NULL DEFAULT 'USD',
    start            INTEGER,
    end              INTEGER,
    enrollment_start INTEGER,
    enrollment_end   INTEGER,
    invitation_only  INTEGER NOT NULL DEFAULT 0,
    max_enrollments  INTEGER,
    self_paced       INTEGER NOT NULL DEFAULT 0,
    published        INTEGER NOT NULL DEFAULT 1,
    created          INTEGER NOT NULL,
    updated          INTEGER NOT NULL,
    enrollment_seq   INTEGER NOT NULL DEFAULT 0,  -- the highest roster position given out
    -- The enrollment lifecycle (README "Enrollment lifecycle"): a new enrollment's default
    -- length, what the expiry job does at access_end, the notice's lead time, the waitlist.
    access_days          INTEGER,
    expiry_action        TEXT NOT NULL DEFAULT 'keep' CHECK (expiry_action IN ('keep', 'suspend', 'unenroll')),
    expiry_notice_days   INTEGER,
    waitlist             INTEGER NOT NULL DEFAULT 0,
    waitlist_limit       INTEGER,
    suspended_holds_seat INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE IF NOT EXISTS course_modes (
    id                  INTEGER PRIMARY KEY,
    course_id           INTEGER NOT NULL REFERENCES courses(id) ON DELETE CASCADE,
    slug                TEXT NOT NULL,
    name                TEXT NOT NULL,
    min_price_minor     INTEGER NOT NULL DEFAULT 0,
    currency            TEXT NOT NULL DEFAULT 'USD',
    expiration_datetime INTEGER,
    description         TEXT,
    sku                 TEXT,
    UNIQUE (course_id, slug)
);

CREATE TABLE IF NOT EXISTS course_roles (
    course_id INTEGER NOT NULL REFERENCES courses(id) ON DELETE CASCADE,
    user_id   INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role      TEXT NOT NULL CHECK (role IN ('instructor', 'staff')),
    created   INTEGER NOT NULL,
    PRIMARY KEY (course_id, user_id, role)
);
CREATE INDEX IF NOT EXISTS course_roles_by_user ON course_roles(user_id);

CREATE TABLE IF NOT EXISTS enrollments (
    id        INTEGER PRIMARY KEY,
    user_id   INTEGER NOT NULL REFERENCES users(id),
    course_id INTEGER NOT NULL REFERENCES courses(id),
    mode      TEXT NOT NULL,
    is_active INTEGER NOT NULL DEFAULT 1,
    course_seq INTEGER NOT NULL DEFAULT 0,   -- 1, 2, 3… within the course, in creation order
    created   INTEGER NOT NULL,
    updated   INTEGER NOT NULL,
    -- `is_active` says the row is on the roster (status other than inactive); whether the
    -- learner has access now also takes the status and the dates (core::enrollment::has_access).
    status       TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended', 'expired', 'inactive')),
    access_start INTEGER,
    access_end   INTEGER,
    expiry_notified INTEGER,   -- when the enrollment_expiring email was written (once)
    UNIQUE (user_id, course_id)
);
CREATE INDEX IF NOT EXISTS enrollments_by_course ON enrollments(course_id, id);

-- Key/value attributes sent with an enrollment (Open edX enrollment_attributes).
CREATE TABLE IF NOT EXISTS enrollment_attributes (
    enrollment_id INTEGER NOT NULL REFERENCES enrollments(id) ON DELETE CASCADE,
    namespace     TEXT NOT NULL,
    name          TEXT NOT NULL,
    value         TEXT NOT NULL,
    PRIMARY KEY (enrollment_id, namespace, name)
);

-- Pre-enrollments (Open edX CourseEnrollmentAllowed): an email invited to a course.
-- `user_id` is set once a user claims it, and never changes after.
CREATE TABLE IF NOT EXISTS enrollment_allowed (
    id          INTEGER PRIMARY KEY,
    email       TEXT NOT NULL COLLATE NOCASE,
    course_id   INTEGER NOT NULL REFERENCES courses(id),
    auto_enroll INTEGER NOT NULL DEFAULT 0,
    user_id     INTEGER REFERENCES users(id),
    created     INTEGER NOT NULL,
    UNIQUE (email, course_id)
);
CREATE INDEX IF NOT EXISTS enrollment_allowed_by_course ON enrollment_allowed(course_id, id);

-- Every enrollment change: who, through which surface and source, the state before and
-- after (JSON), and why.
-- Pre-enrollments into courses that do not exist yet (Open edX stores any course id):
-- moved into enrollment_allowed when the course is created.
CREATE TABLE IF NOT EXISTS pending_pre_enrollments (
    id          INTEGER PRIMARY KEY,
    email       TEXT NOT NULL COLLATE NOCASE,
    course_key  TEXT NOT NULL,
    auto_enroll INTEGER NOT NULL,
    created     INTEGER NOT NULL,
    UNIQUE (email, course_key)
);

CREATE TABLE IF NOT EXISTS enrollment_history (
    id         INTEGER PRIMARY KEY,
    course_id  INTEGER NOT NULL REFERENCES courses(id),
    user_id    INTEGER REFERENCES users(id),
    email      TEXT NOT NULL,
    actor      TEXT NOT NULL,
    surface    TEXT NOT NULL,
    source     TEXT NOT NULL,
    reason     TEXT,
    before     TEXT NOT NULL,
    after      TEXT NOT NULL,
    created    INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS enrollment_history_by_course ON enrollment_history(course_id, id);

-- Side effects written in the same transaction as the change they announce; delivered
-- by the outbox worker after commit.
CREATE TABLE IF NOT EXISTS outbox (
    id              INTEGER PRIMARY KEY,
    channel         TEXT NOT NULL DEFAULT 'email',
    message_type    TEXT NOT NULL,
    recipient       TEXT NOT NULL,
    payload         TEXT NOT NULL,          -- JSON: what the template needs
    status          TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    next_attempt_at INTEGER NOT NULL,
    created         INTEGER NOT NULL,
    sent_at         INTEGER
);
-- The email and the webhook workers each ask what of their own kind is due: with the kind
-- in the index, neither reads past the other's pending rows (thousands of queued emails
-- were scanned on every webhook worker's wake-up, 9 % of a checkout run's CPU).
CREATE INDEX IF NOT EXISTS outbox_due_by_kind ON outbox(status, channel = 'webhook', next_attempt_at);

-- A per-course position for each enrollment row, assigned once (rows are never deleted),
-- so that page N of a course's roster is an index seek, not an OFFSET scan.
CREATE INDEX IF NOT EXISTS enrollments_by_course_seq ON enrollments(course_id, course_seq);
CREATE INDEX IF NOT EXISTS enrollments_by_course_activity ON enrollments(course_id, is_active, course_seq);

-- Active and inactive rows per block of 1,024 roster positions, kept by triggers: page N of
-- a filtered roster sums a course's few block counts to find the block its first row is
-- in, then skips less than one block on the index above (a seek, not an OFFSET over the
-- whole course), and the filtered total is a sum of blocks, not a count of rows.
CREATE TABLE IF NOT EXISTS roster_blocks (
    course_id INTEGER NOT NULL,
    block     INTEGER NOT NULL,
    active    INTEGER NOT NULL DEFAULT 0,
    inactive  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (course_id, block)
) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS roster_blocks_insert AFTER INSERT ON enrollments BEGIN
    INSERT INTO roster_blocks (course_id, block, active, inactive)
        VALUES (NEW.course_id, NEW.course_seq >> 10, NEW.is_active != 0, NEW.is_active = 0)
        ON CONFLICT (course_id, block) DO UPDATE SET active = active + excluded.active, inactive = inactive + excluded.inactive;
END;
CREATE TRIGGER IF NOT EXISTS roster_blocks_update AFTER UPDATE OF is_active ON enrollments
    WHEN (OLD.is_active != 0) != (NEW.is_active != 0) BEGIN
    UPDATE roster_blocks SET active = active + (NEW.is_active != 0) - (OLD.is_active != 0),
        inactive = inactive + (NEW.is_active = 0) - (OLD.is_active = 0)
        WHERE course_id = NEW.course_id AND block = NEW.course_seq >> 10;
END;

-- Bulk enrollment work: one row per task, one row per identifier. A worker processes
-- identifiers in batches, one transaction per batch, so a restart resumes where it stopped.
CREATE TABLE IF NOT EXISTS tasks (
    id          INTEGER PRIMARY KEY,
    public_id   TEXT NOT NULL UNIQUE,
    course_id   INTEGER NOT NULL REFERENCES courses(id),
    action      TEXT NOT NULL CHECK (action IN ('enroll', 'unenroll', 'progress')),
    options     TEXT NOT NULL,              -- JSON: mode, auto_enroll, email_students, reason
    actor       TEXT NOT NULL,
    surface     TEXT NOT NULL,
    status      TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'running', 'succeeded', 'failed', 'cancelled')),
    total       INTEGER NOT NULL,
    done        INTEGER NOT NULL DEFAULT 0,
    succeeded   INTEGER NOT NULL DEFAULT 0,
    failed      INTEGER NOT NULL DEFAULT 0,
    created     INTEGER NOT NULL,
    started     INTEGER,
    finished    INTEGER
);
CREATE INDEX IF NOT EXISTS tasks_open ON tasks(status, id);

CREATE TABLE IF NOT EXISTS task_items (
    task_id    INTEGER NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
    position   INTEGER NOT NULL,
    identifier TEXT NOT NULL,
    options    TEXT,                         -- JSON: this row's own (a CSV row's mode, or its progress report)
    status     TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'failed')),
    result     TEXT,                         -- JSON: before/after or error
    PRIMARY KEY (task_id, position)
);

-- Learning paths (the learning-paths plugin): a bundle of courses learners enroll in.
CREATE TABLE IF NOT EXISTS learning_paths (
    id                  INTEGER PRIMARY KEY,
    key                 TEXT NOT NULL UNIQUE,   -- path-v1:org+number+run+group
    display_name        TEXT NOT NULL,
    subtitle            TEXT NOT NULL DEFAULT '',
    description         TEXT NOT NULL DEFAULT '',
    level               TEXT NOT NULL DEFAULT '',
    duration            TEXT NOT NULL DEFAULT '',
    time_commitment     TEXT NOT NULL DEFAULT '',
    sequential          INTEGER NOT NULL DEFAULT 0,
    invite_only         INTEGER NOT NULL DEFAULT 1,
    required_completion REAL NOT NULL DEFAULT 0.8,
    required_grade      REAL NOT NULL DEFAULT 0.75,
    created             INTEGER NOT NULL,
    uuid                TEXT                    -- UUID v4, set at creation, never changed
);
CREATE UNIQUE INDEX IF NOT EXISTS learning_paths_by_uuid ON learning_paths(uuid);

CREATE TABLE IF NOT EXISTS learning_path_steps (
    learning_path_id INTEGER NOT NULL REFERENCES learning_paths(id) ON DELETE CASCADE,
    course_id        INTEGER NOT NULL REFERENCES courses(id),
    position         INTEGER NOT NULL,
    weight           REAL NOT NULL DEFAULT 1.0,
    PRIMARY KEY (learning_path_id, course_id)
);

CREATE TABLE IF NOT EXISTS learning_path_enrollments (
    id               INTEGER PRIMARY KEY,
    learning_path_id INTEGER NOT NULL REFERENCES learning_paths(id) ON DELETE CASCADE,
    user_id          INTEGER NOT NULL REFERENCES users(id),
    is_active        INTEGER NOT NULL DEFAULT 1,
    created          INTEGER NOT NULL,
    UNIQUE (user_id, learning_path_id)
);

-- Emails invited to a path before they have an account; claimed on registration.
CREATE TABLE IF NOT EXISTS learning_path_enrollment_allowed (
    id               INTEGER PRIMARY KEY,
    learning_path_id INTEGER NOT NULL REFERENCES learning_paths(id) ON DELETE CASCADE,
    email            TEXT NOT NULL COLLATE NOCASE,
    user_id          INTEGER REFERENCES users(id),
    is_active        INTEGER NOT NULL DEFAULT 1,
    created          INTEGER NOT NULL,
    UNIQUE (email, learning_path_id)
);

-- Checkout orders (POST /api/v1/enrollments): a new student, a simulated payment and an
-- enrollment, written in one transaction. Only the card's last four digits are kept.
CREATE TABLE IF NOT EXISTS checkout_orders (
    id                INTEGER PRIMARY KEY,
    enrollment_number TEXT NOT NULL UNIQUE,
    transaction_id    TEXT NOT NULL UNIQUE,
    user_id           INTEGER NOT NULL REFERENCES users(id),
    course_id         INTEGER NOT NULL REFERENCES courses(id),
    status            TEXT NOT NULL CHECK (status IN ('active', 'pending')),
    amount_minor      INTEGER NOT NULL,
    discount_minor    INTEGER NOT NULL,
    currency          TEXT NOT NULL,
    coupon_code       TEXT,
    method            TEXT NOT NULL,
    card_last_four    TEXT,
    details           TEXT NOT NULL,   -- JSON: notes, custom fields, modules plan, metadata
    started_at        INTEGER,
    expires_at        INTEGER,
    created           INTEGER NOT NULL
);

-- Enrollment codes (Appsembler's CourseRegistrationCode) and their redemptions. A code can
-- be redeemed more than once: clients of the original API rely on that.
CREATE TABLE IF NOT EXISTS enrollment_codes (
    id         INTEGER PRIMARY KEY,
    code       TEXT NOT NULL UNIQUE,
    course_id  INTEGER NOT NULL REFERENCES courses(id),
    created_by INTEGER REFERENCES users(id),
    mode_slug  TEXT,
    is_valid   INTEGER NOT NULL DEFAULT 1,
    created    INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS code_redemptions (
    id            INTEGER PRIMARY KEY,
    code_id       INTEGER NOT NULL REFERENCES enrollment_codes(id) ON DELETE CASCADE,
    user_id       INTEGER NOT NULL REFERENCES users(id),
    enrollment_id INTEGER REFERENCES enrollments(id),
    created       INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS code_redemptions_by_code ON code_redemptions(code_id);
CREATE INDEX IF NOT EXISTS users_by_date_joined ON users(date_joined);
CREATE INDEX IF NOT EXISTS users_by_username_key ON users(username_key);

-- Webhook subscribers: enrollment events are written to the outbox (channel 'webhook') in
-- the same transaction as the change, and delivered signed (Standard Webhooks).
-- AUTOINCREMENT: an id is never reused, so nothing queued for a deleted endpoint can reach
-- a newer one. consecutive_failures/paused_until are the delivery circuit breaker.
CREATE TABLE IF NOT EXISTS webhook_endpoints (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    url     TEXT NOT NULL,
    secret  TEXT NOT NULL,                 -- signing key; needed in clear to sign
    active  INTEGER NOT NULL DEFAULT 1,
    created INTEGER NOT NULL,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    paused_until         INTEGER NOT NULL DEFAULT 0
);

-- What a learner has achieved in a course (pushed by an LMS or a grading system): one row
-- per enrollment, and every change kept in progress_history.
CREATE TABLE IF NOT EXISTS enrollment_progress (
    enrollment_id   INTEGER PRIMARY KEY REFERENCES enrollments(id),
    completion      REAL NOT NULL,              -- 0.0 to 1.0
    grade           REAL NOT NULL,              -- 0.0 to 1.0
    passed          INTEGER NOT NULL,
    completed_at    INTEGER,
    certificate_url TEXT,
    updated         INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS progress_history (
    id              INTEGER PRIMARY KEY,
    enrollment_id   INTEGER NOT NULL REFERENCES enrollments(id),
    completion      REAL NOT NULL,
    grade           REAL NOT NULL,
    passed          INTEGER NOT NULL,
    completed_at    INTEGER,
    certificate_url TEXT,
    actor           TEXT NOT NULL,
    surface         TEXT NOT NULL,
    created         INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS progress_history_by_enrollment ON progress_history(enrollment_id, id);

-- The highest roster position given out in each course (courses.enrollment_seq), raised by
-- every enrollment insert, the application's and a migration's alike.
CREATE TRIGGER IF NOT EXISTS enrollment_seq_insert AFTER INSERT ON enrollments BEGIN
    UPDATE courses SET enrollment_seq = max(enrollment_seq, NEW.course_seq) WHERE id = NEW.course_id;
END;

-- SCIM 2.0 provisioning (RFC 7643, RFC 7644): the school's identity provider creates and
-- deactivates accounts and keeps groups; a group linked to courses enrolls its members.
-- Bearer tokens for /scim/v2 (SHA-256 only; the token is shown once).
CREATE TABLE IF NOT EXISTS scim_tokens (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created    INTEGER NOT NULL
);

-- What SCIM adds to an account: the provider's externalId, when SCIM last changed it, and
-- whether SCIM deleted it (deactivated and no longer a SCIM resource).
CREATE TABLE IF NOT EXISTS scim_users (
    user_id     INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    external_id TEXT,
    deleted     INTEGER NOT NULL DEFAULT 0,
    updated     INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS scim_users_by_external_id ON scim_users(external_id);

CREATE TABLE IF NOT EXISTS scim_groups (
    id           INTEGER PRIMARY KEY,
    display_name TEXT NOT NULL,
    external_id  TEXT,
    created      INTEGER NOT NULL,
    updated      INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS scim_group_members (
    group_id INTEGER NOT NULL REFERENCES scim_groups(id) ON DELETE CASCADE,
    user_id  INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX IF NOT EXISTS scim_group_members_by_user ON scim_group_members(user_id);

-- A group's courses: its members are enrolled (mode NULL: the course's default mode).
CREATE TABLE IF NOT EXISTS scim_group_courses (
    group_id  INTEGER NOT NULL REFERENCES scim_groups(id) ON DELETE CASCADE,
    course_id INTEGER NOT NULL REFERENCES courses(id),
    mode      TEXT,
    created   INTEGER NOT NULL,
    PRIMARY KEY (group_id, course_id)
);

-- What a link did for each member: 'enrolled' (the link made the enrollment, so leaving the
-- group undoes it), 'present' (already enrolled otherwise; left alone), 'refused' (the
-- enrollment core said no: a full course, a retired mode; `detail` says why).
CREATE TABLE IF NOT EXISTS scim_link_members (
    group_id  INTEGER NOT NULL,
    course_id INTEGER NOT NULL,
    user_id   INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    status    TEXT NOT NULL CHECK (status IN ('enrolled', 'present', 'refused')),
    detail    TEXT,
    updated   INTEGER NOT NULL,
    PRIMARY KEY (group_id, course_id, user_id),
    FOREIGN KEY (group_id, course_id) REFERENCES scim_group_courses(group_id, course_id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS scim_link_members_by_user ON scim_link_members(user_id, course_id);

-- The expiry job's two scans: enrollments due to expire, and those due a notice.
CREATE INDEX IF NOT EXISTS enrollments_by_access_end ON enrollments(access_end) WHERE access_end IS NOT NULL AND status = 'active';

-- Learners waiting for a seat, per course, in a dense order (1, 2, 3…) kept by the store:
-- the first is enrolled in the transaction that frees a seat.
CREATE TABLE IF NOT EXISTS waitlist (
    id           INTEGER PRIMARY KEY,
    course_id    INTEGER NOT NULL REFERENCES courses(id) ON DELETE CASCADE,
    user_id      INTEGER NOT NULL REFERENCES users(id),
    position     INTEGER NOT NULL,
    mode         TEXT NOT NULL,
    access_start INTEGER,
    access_end   INTEGER,
    created      INTEGER NOT NULL,
    UNIQUE (course_id, user_id)
);
CREATE INDEX IF NOT EXISTS waitlist_by_position ON waitlist(course_id, position);

-- Privacy requests (README "Privacy requests"): retirements queued by a learner's
-- deactivate_logout and bulk retirements by staff, one item per account, processed in
-- batches like the enrollment tasks. An item's username becomes the retired one in the
-- transaction that retires the account.
CREATE TABLE IF NOT EXISTS retirement_tasks (
    id        INTEGER PRIMARY KEY,
    public_id TEXT NOT NULL UNIQUE,
    actor     TEXT NOT NULL,
    status    TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'running', 'succeeded', 'failed')),
    total     INTEGER NOT NULL,
    done      INTEGER NOT NULL DEFAULT 0,
    succeeded INTEGER NOT NULL DEFAULT 0,
    failed    INTEGER NOT NULL DEFAULT 0,
    created   INTEGER NOT NULL,
    started   INTEGER,
    finished  INTEGER
);
CREATE TABLE IF NOT EXISTS retirement_items (
    task_id  INTEGER NOT NULL REFERENCES retirement_tasks(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    username TEXT NOT NULL,
    status   TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'failed')),
    result   TEXT,                          -- JSON: the retired username, or the error
    PRIMARY KEY (task_id, position)
);

-- Idempotency keys (README "Idempotency keys"): the first answer to a caller's key on a route,
-- written in the transaction of the request's own writes, replayed to a retry with that key.
-- `fingerprint` is a SHA-256 of the method, path and body; secrets are removed from `body`.
-- A rowid table with no index: answers are appended (a batch's answers share the last
-- pages, where a key's B-tree would take one page at a random place per answer, and an
-- answer over ~1 KB an overflow page too), and found by rowid, which the process's registry
-- of answered keys holds (core/idempotency.rs). The purge deletes a prefix of rowids.
CREATE TABLE IF NOT EXISTS idempotency_keys (
    id              INTEGER PRIMARY KEY,
    caller          TEXT NOT NULL,              -- 'api-key', 'user:ID:client:CLIENT_ID', 'user:ID:session'
    route           TEXT NOT NULL,              -- 'POST /api/v1/enrollments'
    key             TEXT NOT NULL,
    fingerprint     TEXT NOT NULL,
    status          INTEGER NOT NULL,
    headers         TEXT NOT NULL,              -- JSON [[name, value], …]: Content-Type, Location
    body            BLOB NOT NULL,
    created         INTEGER NOT NULL
);
