//! Durable state shared by every instance: the login states' secret, used nonces, launches,
//! learner progress, the score outbox, line items found or created, deep-linking requests and
//! dynamic registrations.
//! SQLite in the data dir by default; PostgreSQL when several instances must share it.

use anyhow::{Context as _, Result};
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Row as _};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// Launch rows never change once written (they are only purged after they expire), so
    /// every instance may keep them: a page request then needs no launch query.
    launches: std::sync::Mutex<std::collections::HashMap<String, Launch>>,
}

/// Launches kept in memory at most; the map is emptied when it is full (a class of a few
/// thousand learners fits many times over).
const LAUNCH_CACHE_MAX: usize = 50_000;

/// The schema as a list of migrations: entry `i` takes the database from version `i` to
/// `i + 1`. The same statements work on both backends (BIGINT is an integer in SQLite). A
/// migration is never edited once released; a change is a new entry at the end.
const MIGRATIONS: &[&[&str]] = &[
    // 1: the tables of coursepack 0.1.0 (which had no version table: IF NOT EXISTS makes this
    // a no-op on its databases, which then go on to 2).
    &[
        "CREATE TABLE IF NOT EXISTS lti_login_state (
            state TEXT PRIMARY KEY,
            nonce TEXT NOT NULL,
            issuer TEXT NOT NULL,
            client_id TEXT NOT NULL,
            target_link_uri TEXT NOT NULL,
            storage_target TEXT,
            storage_secret TEXT,
            expires_ms BIGINT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS lti_nonce (
            nonce TEXT PRIMARY KEY,
            expires_ms BIGINT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS lti_launch (
            handle TEXT PRIMARY KEY,
            token TEXT NOT NULL UNIQUE,
            issuer TEXT NOT NULL,
            client_id TEXT NOT NULL,
            deployment_id TEXT NOT NULL,
            sub TEXT NOT NULL,
            session TEXT,
            resource_link_id TEXT NOT NULL,
            lineitem TEXT,
            created_ms BIGINT NOT NULL,
            expires_ms BIGINT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS lti_progress (
            issuer TEXT NOT NULL,
            client_id TEXT NOT NULL,
            sub TEXT NOT NULL,
            session TEXT NOT NULL,
            state TEXT NOT NULL,
            completed BIGINT NOT NULL,
            updated_ms BIGINT NOT NULL,
            PRIMARY KEY (issuer, client_id, sub, session))",
        "CREATE TABLE IF NOT EXISTS lti_outbox (
            key TEXT PRIMARY KEY,
            issuer TEXT NOT NULL,
            client_id TEXT NOT NULL,
            lineitem TEXT NOT NULL,
            sub TEXT NOT NULL,
            session TEXT NOT NULL,
            score_given DOUBLE PRECISION NOT NULL,
            score_maximum DOUBLE PRECISION NOT NULL,
            ts_ms BIGINT NOT NULL,
            created_ms BIGINT NOT NULL,
            attempts BIGINT NOT NULL DEFAULT 0,
            next_ms BIGINT NOT NULL,
            lease_owner TEXT,
            lease_until_ms BIGINT,
            delivered_ms BIGINT,
            dead BIGINT NOT NULL DEFAULT 0,
            last_error TEXT)",
        "CREATE INDEX IF NOT EXISTS lti_outbox_due ON lti_outbox (next_ms) WHERE delivered_ms IS NULL AND dead = 0",
        "CREATE INDEX IF NOT EXISTS lti_outbox_learner ON lti_outbox (lineitem, sub)",
        "CREATE TABLE IF NOT EXISTS lti_deep_link (
            handle TEXT PRIMARY KEY,
            issuer TEXT NOT NULL,
            client_id TEXT NOT NULL,
            deployment_id TEXT NOT NULL,
            return_url TEXT NOT NULL,
            data TEXT,
            accept_multiple BIGINT NOT NULL,
            expires_ms BIGINT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS lti_platform (
            issuer TEXT NOT NULL,
            client_id TEXT NOT NULL,
            config TEXT NOT NULL,
            created_ms BIGINT NOT NULL,
            PRIMARY KEY (issuer, client_id))",
    ],
    // 2: progress per course offering (platform, deployment, context, learner); line items the
    // tool finds or creates itself; what a fresh login in a new window needs.
    &[
        // Rows from before keep deployment and context empty: they belong to no offering yet
        // and are taken over by the first one the learner launches in (`adopt_progress`).
        "CREATE TABLE lti_progress_v2 (
            issuer TEXT NOT NULL,
            client_id TEXT NOT NULL,
            deployment_id TEXT NOT NULL,
            context_id TEXT NOT NULL,
            sub TEXT NOT NULL,
            session TEXT NOT NULL,
            state TEXT NOT NULL,
            completed BIGINT NOT NULL,
            updated_ms BIGINT NOT NULL,
            PRIMARY KEY (issuer, client_id, deployment_id, context_id, sub, session))",
        "INSERT INTO lti_progress_v2
            (issuer, client_id, deployment_id, context_id, sub, session, state, completed, updated_ms)
         SELECT issuer, client_id, '', '', sub, session, state, completed, updated_ms FROM lti_progress",
        "DROP TABLE lti_progress",
        "ALTER TABLE lti_progress_v2 RENAME TO lti_progress",
        // NULL context: a launch accepted before the upgrade (it keeps using the old rows).
        "ALTER TABLE lti_launch ADD COLUMN context_id TEXT",
        "ALTER TABLE lti_launch ADD COLUMN lineitems TEXT",
        // The id_token's nonce, used once: the launch row itself records it (one write per
        // launch instead of two); lti_nonce keeps the nonces of deep-linking requests.
        "ALTER TABLE lti_launch ADD COLUMN nonce TEXT",
        "CREATE UNIQUE INDEX lti_launch_nonce ON lti_launch (nonce)",
        // Login states now carry themselves (state.rs); a login in flight during the upgrade
        // is started again by the learner.
        "DROP TABLE lti_login_state",
        "ALTER TABLE lti_outbox ADD COLUMN lineitems TEXT",
        "ALTER TABLE lti_outbox ADD COLUMN resource_link_id TEXT",
        "ALTER TABLE lti_outbox ADD COLUMN tag TEXT",
        "ALTER TABLE lti_outbox ADD COLUMN label TEXT",
        "ALTER TABLE lti_outbox ADD COLUMN resource_id TEXT",
        "ALTER TABLE lti_outbox ADD COLUMN activity TEXT",
        // Secrets every instance shares, e.g. the key of the login states.
        "CREATE TABLE lti_secret (
            name TEXT PRIMARY KEY,
            value TEXT NOT NULL)",
        "CREATE TABLE lti_lineitem (
            lineitems TEXT NOT NULL,
            resource_link_id TEXT NOT NULL,
            tag TEXT NOT NULL,
            lineitem TEXT NOT NULL,
            created_ms BIGINT NOT NULL,
            PRIMARY KEY (lineitems, resource_link_id, tag))",
    ],
];

/// The schema version this build writes and understands.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// What the login initiation remembers for the launch that follows (carried in the state
/// itself, see `state.rs`).
#[derive(Debug, Clone)]
pub struct LoginState {
    pub nonce: String,
    pub issuer: String,
    pub client_id: String,
    pub target_link_uri: String,
    /// The platform's storage frame (`lti_storage_target`), for browsers that block the
    /// state cookie.
    pub storage_target: Option<String>,
    /// The login request's hints and deployment, to start a fresh login from a new window.
    pub login_hint: Option<String>,
    pub message_hint: Option<String>,
    pub deployment_id: Option<String>,
    pub expires_ms: i64,
}

/// An accepted resource-link launch.
#[derive(Debug, Clone)]
pub struct Launch {
    pub handle: String,
    pub token: String,
    pub issuer: String,
    pub client_id: String,
    pub deployment_id: String,
    pub sub: String,
    /// The launched session; `None` for a whole-course link.
    pub session: Option<String>,
    pub resource_link_id: String,
    /// AGS line item, when the platform granted score posting for this link.
    pub lineitem: Option<String>,
    /// The AGS line items URL, when the link has no line item and the platform lets the tool
    /// find or create one (scope `lineitem`).
    pub lineitems: Option<String>,
    /// The course offering (`context` claim id, empty without one). `None`: a launch accepted
    /// before progress was kept per offering.
    pub context_id: Option<String>,
    pub expires_ms: i64,
}

impl Launch {
    /// Deployment and context that the learner's progress is kept under.
    pub fn offering(&self) -> (&str, &str) {
        match &self.context_id {
            Some(c) => (&self.deployment_id, c),
            None => ("", ""),
        }
    }
}

type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

/// Binds the key of a learner's progress, the learner in the launch's course offering, as the
/// query's parameters $1 to $5: issuer, client_id, deployment_id, context_id, sub.
fn bind_learner<'q>(query: AnyQuery<'q>, l: &'q Launch) -> AnyQuery<'q> {
    let (deployment, context) = l.offering();
    query
        .bind(&l.issuer)
        .bind(&l.client_id)
        .bind(deployment)
        .bind(context)
        .bind(&l.sub)
}

/// A score waiting to reach a platform.
#[derive(Debug, Clone)]
pub struct OutboxRow {
    pub key: String,
    pub issuer: String,
    pub client_id: String,
    pub lineitem: String,
    pub sub: String,
    pub session: String,
    pub score_given: f64,
    pub score_maximum: f64,
    pub ts_ms: i64,
    pub attempts: i64,
    /// Set when the tool finds or creates the line item itself (see [`AutoLineItem`]).
    pub auto: Option<AutoLineItem>,
    /// `activityProgress`; `None` (rows queued before it was stored) means Completed.
    pub activity: Option<String>,
}

/// A line item the tool finds (by resource link and tag) or creates in the platform's line
/// items container before posting a score.
#[derive(Debug, Clone, PartialEq)]
pub struct AutoLineItem {
    pub lineitems: String,
    pub resource_link_id: String,
    pub tag: String,
    pub label: String,
    pub resource_id: String,
}

impl AutoLineItem {
    /// Stands for the line item in the outbox until it is known: one value per link and tag.
    pub fn placeholder(&self) -> String {
        format!(
            "find:{}#{}#{}",
            self.lineitems, self.resource_link_id, self.tag
        )
    }
}

/// A score to queue together with a completion.
pub struct NewScore {
    /// The line item URL, or the placeholder of `auto`.
    pub lineitem: String,
    pub auto: Option<AutoLineItem>,
    pub score_given: f64,
    pub score_maximum: f64,
    pub activity: &'static str,
    /// The score comes from the session's knowledge checks: a later, higher
    /// score is queued again (a completion alone is queued once).
    pub points: bool,
}

/// An accepted deep-linking request, waiting for the instructor's choice.
#[derive(Debug, Clone)]
pub struct DeepLinkRequest {
    pub handle: String,
    pub issuer: String,
    pub client_id: String,
    pub deployment_id: String,
    pub return_url: String,
    pub data: Option<String>,
    pub accept_multiple: bool,
    pub expires_ms: i64,
}

fn launch_from_row(row: &AnyRow) -> Result<Launch> {
    Ok(Launch {
        handle: row.try_get("handle")?,
        token: row.try_get("token")?,
        issuer: row.try_get("issuer")?,
        client_id: row.try_get("client_id")?,
        deployment_id: row.try_get("deployment_id")?,
        sub: row.try_get("sub")?,
        session: row.try_get("session")?,
        resource_link_id: row.try_get("resource_link_id")?,
        lineitem: row.try_get("lineitem")?,
        lineitems: row.try_get("lineitems")?,
        context_id: row.try_get("context_id")?,
        expires_ms: row.try_get("expires_ms")?,
    })
}

const LAUNCH_COLUMNS: &str = "handle, token, issuer, client_id, deployment_id, sub, session, \
     resource_link_id, lineitem, lineitems, context_id, expires_ms";
const OUTBOX_COLUMNS: &str = "key, issuer, client_id, lineitem, sub, session, score_given, \
     score_maximum, ts_ms, attempts, lineitems, resource_link_id, tag, label, resource_id, activity";

impl Store {
    /// Connects to `database` (a `postgres://` URL) or to SQLite in `data_dir`, and creates the
    /// tables.
    pub async fn open(database: Option<&str>, data_dir: &std::path::Path) -> Result<Self> {
        sqlx::any::install_default_drivers();
        let (url, backend) = match database {
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                (url.to_string(), Backend::Postgres)
            }
            Some(url) if url.starts_with("sqlite:") => (url.to_string(), Backend::Sqlite),
            Some(_) => anyhow::bail!("--database must be a postgres:// or sqlite: URL"),
            None => {
                let path = data_dir.join(SQLITE_FILE);
                private_sqlite_files(&path)?;
                (
                    format!("sqlite://{}?mode=rwc", path.display()),
                    Backend::Sqlite,
                )
            }
        };
        let pool = AnyPoolOptions::new()
            .max_connections(if backend == Backend::Sqlite { 4 } else { 10 })
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    // Launch-time rows (nonces, launches) need no flush to disk
                    // of their own: a power cut may lose the last ones, and the learner opens
                    // the activity again. SQLite's WAL stays consistent with NORMAL; the
                    // learner's saves ask for a full flush themselves (`save_progress`).
                    let sql = match backend {
                        Backend::Sqlite => "PRAGMA synchronous = NORMAL",
                        Backend::Postgres => "SET synchronous_commit = off",
                    };
                    sqlx::query(sql).execute(&mut *conn).await?;
                    Ok(())
                })
            })
            .acquire_timeout(std::time::Duration::from_secs(10))
            .connect(&url)
            .await
            .with_context(|| match backend {
                Backend::Sqlite => format!("opening the SQLite database {url}"),
                Backend::Postgres => "connecting to PostgreSQL (--database)".to_string(),
            })?;
        if backend == Backend::Sqlite {
            // WAL lets page reads continue while a completion is being written.
            sqlx::query("PRAGMA journal_mode=WAL")
                .execute(&pool)
                .await?;
        }
        let store = Store {
            pool,
            backend,
            launches: Default::default(),
        };
        store.migrate().await?;
        Ok(store)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Brings the schema to [`SCHEMA_VERSION`], one migration at a time, in one transaction
    /// that no other instance can enter (PostgreSQL advisory lock; SQLite `BEGIN IMMEDIATE`).
    async fn migrate(&self) -> Result<()> {
        let mut conn = self.pool.acquire().await?;
        match self.backend {
            Backend::Postgres => {
                sqlx::query("BEGIN").execute(&mut *conn).await?;
                // Several instances may start at once; one migrates at a time.
                sqlx::query("SELECT pg_advisory_xact_lock(7301130)")
                    .execute(&mut *conn)
                    .await?;
            }
            Backend::Sqlite => {
                sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await?;
            }
        }
        let result = Self::migrate_in(&mut conn).await;
        let end = if result.is_ok() { "COMMIT" } else { "ROLLBACK" };
        sqlx::query(end).execute(&mut *conn).await?;
        let (from, to) = result?;
        if from != to {
            tracing::info!(from, to, "database schema migrated");
        }
        Ok(())
    }

    async fn migrate_in(conn: &mut sqlx::AnyConnection) -> Result<(i64, i64)> {
        sqlx::query("CREATE TABLE IF NOT EXISTS lti_schema (version BIGINT NOT NULL)")
            .execute(&mut *conn)
            .await?;
        let from: Option<i64> = sqlx::query("SELECT MAX(version) AS v FROM lti_schema")
            .fetch_one(&mut *conn)
            .await?
            .try_get("v")?;
        let from = from.unwrap_or(0);
        if from > SCHEMA_VERSION {
            anyhow::bail!(
                "the database has schema version {from}, newer than this coursepack's ({SCHEMA_VERSION}); run a newer coursepack"
            );
        }
        for (i, steps) in MIGRATIONS.iter().enumerate().skip(from as usize) {
            for stmt in *steps {
                sqlx::query(stmt)
                    .execute(&mut *conn)
                    .await
                    .with_context(|| format!("schema migration {}", i + 1))?;
            }
        }
        sqlx::query("DELETE FROM lti_schema")
            .execute(&mut *conn)
            .await?;
        sqlx::query("INSERT INTO lti_schema (version) VALUES ($1)")
            .bind(SCHEMA_VERSION)
            .execute(&mut *conn)
            .await?;
        Ok((from, SCHEMA_VERSION))
    }

    /// The shared secret `name`, made on first use (the first instance to ask wins).
    pub async fn secret(&self, name: &str) -> Result<String> {
        sqlx::query(
            "INSERT INTO lti_secret (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(super::random_token())
        .execute(&self.pool)
        .await?;
        Ok(sqlx::query("SELECT value FROM lti_secret WHERE name = $1")
            .bind(name)
            .fetch_one(&self.pool)
            .await?
            .try_get("value")?)
    }

    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Drops expired nonces, launches and deep-link requests.
    pub async fn purge_expired(&self, now_ms: i64) -> Result<()> {
        for table in ["lti_nonce", "lti_launch", "lti_deep_link"] {
            sqlx::query(&format!("DELETE FROM {table} WHERE expires_ms < $1"))
                .bind(now_ms)
                .execute(&self.pool)
                .await?;
        }
        Ok(())
    }

    /// Records a nonce as used; false when it was used before.
    pub async fn use_nonce(&self, nonce: &str, expires_ms: i64) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO lti_nonce (nonce, expires_ms) VALUES ($1, $2) ON CONFLICT (nonce) DO NOTHING",
        )
        .bind(nonce)
        .bind(expires_ms)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    fn remember_launch(&self, l: &Launch) {
        let mut map = self
            .launches
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if map.len() >= LAUNCH_CACHE_MAX {
            map.clear();
        }
        map.insert(l.handle.clone(), l.clone());
    }

    /// Records an accepted launch and, with it, its id_token's nonce as used. False (and no
    /// launch) when a launch with that nonce exists already.
    pub async fn create_launch(&self, l: &Launch, nonce: &str) -> Result<bool> {
        let done = sqlx::query(&format!(
            "INSERT INTO lti_launch ({LAUNCH_COLUMNS}, created_ms, nonce)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
             ON CONFLICT (nonce) DO NOTHING"
        ))
        .bind(&l.handle)
        .bind(&l.token)
        .bind(&l.issuer)
        .bind(&l.client_id)
        .bind(&l.deployment_id)
        .bind(&l.sub)
        .bind(&l.session)
        .bind(&l.resource_link_id)
        .bind(&l.lineitem)
        .bind(&l.lineitems)
        .bind(&l.context_id)
        .bind(l.expires_ms)
        .bind(super::now_ms())
        .bind(nonce)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        self.remember_launch(l);
        Ok(true)
    }

    async fn launch_where(&self, column: &str, value: &str, now_ms: i64) -> Result<Option<Launch>> {
        let row = sqlx::query(&format!(
            "SELECT {LAUNCH_COLUMNS} FROM lti_launch WHERE {column} = $1 AND expires_ms >= $2"
        ))
        .bind(value)
        .bind(now_ms)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(launch_from_row).transpose()
    }

    pub async fn launch_by_handle(&self, handle: &str, now_ms: i64) -> Result<Option<Launch>> {
        let known = self
            .launches
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(handle)
            .cloned();
        if let Some(l) = known {
            return Ok((l.expires_ms >= now_ms).then_some(l));
        }
        let found = self.launch_where("handle", handle, now_ms).await?;
        if let Some(l) = &found {
            self.remember_launch(l);
        }
        Ok(found)
    }

    pub async fn launch_by_token(&self, token: &str, now_ms: i64) -> Result<Option<Launch>> {
        self.launch_where("token", token, now_ms).await
    }

    /// Gives progress saved before it was kept per course offering to the offering of this
    /// launch, unless the learner already has progress there for the same session. Called on
    /// every launch while such rows may exist; a no-op afterwards.
    pub async fn adopt_progress(&self, l: &Launch) -> Result<u64> {
        let (deployment, context) = l.offering();
        if deployment.is_empty() {
            return Ok(0);
        }
        let done = sqlx::query(
            "UPDATE lti_progress SET deployment_id = $1, context_id = $2
             WHERE issuer = $3 AND client_id = $4 AND sub = $5 AND deployment_id = ''
               AND NOT EXISTS (SELECT 1 FROM lti_progress p
                 WHERE p.issuer = lti_progress.issuer AND p.client_id = lti_progress.client_id
                   AND p.deployment_id = $1 AND p.context_id = $2
                   AND p.sub = lti_progress.sub AND p.session = lti_progress.session)",
        )
        .bind(deployment)
        .bind(context)
        .bind(&l.issuer)
        .bind(&l.client_id)
        .bind(&l.sub)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    /// Whether progress from before the upgrade exists, or may still be written by a launch
    /// accepted before it.
    pub async fn has_unadopted_progress(&self) -> Result<bool> {
        let n: i64 = sqlx::query(
            "SELECT (SELECT COUNT(*) FROM (SELECT 1 FROM lti_progress WHERE deployment_id = '' LIMIT 1) a)
                  + (SELECT COUNT(*) FROM (SELECT 1 FROM lti_launch WHERE context_id IS NULL LIMIT 1) b) AS n",
        )
        .fetch_one(&self.pool)
        .await?
        .try_get("n")?;
        Ok(n > 0)
    }

    pub async fn progress_state(&self, l: &Launch, session: &str) -> Result<Option<String>> {
        let row = bind_learner(
            sqlx::query(
                "SELECT state FROM lti_progress WHERE issuer = $1 AND client_id = $2 AND deployment_id = $3
                   AND context_id = $4 AND sub = $5 AND session = $6",
            ),
            l,
        )
        .bind(session)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| r.try_get("state")).transpose()?)
    }

    /// Saves a learner's state for a session; on completion, also queues the score, in the same
    /// transaction, so a completion the learner was told is saved always reaches the platform.
    /// `score` computes the score from the number of sessions this learner has completed in
    /// this course offering. Returns whether a score row was newly queued.
    pub async fn save_progress(
        &self,
        l: &Launch,
        session: &str,
        state: &str,
        completed: bool,
        score: Option<&(dyn Fn(i64) -> NewScore + Sync)>,
    ) -> Result<bool> {
        let now = super::now_ms();
        let mut conn = self.pool.acquire().await?;
        // The learner is told their work is saved: this one is on disk before the answer.
        self.durability(&mut conn, true).await?;
        let result = self
            .save_progress_in(&mut conn, l, session, state, completed, score, now)
            .await;
        self.durability(&mut conn, false).await?;
        result
    }

    /// Whether a connection's commits wait for the disk. Off by default (see `open`); on for
    /// what must survive a power cut: learners' saves and queued scores, registrations.
    async fn durability(&self, conn: &mut sqlx::AnyConnection, durable: bool) -> Result<()> {
        let sql = match (self.backend, durable) {
            (Backend::Sqlite, true) => "PRAGMA synchronous = FULL",
            (Backend::Sqlite, false) => "PRAGMA synchronous = NORMAL",
            (Backend::Postgres, true) => "SET synchronous_commit = on",
            (Backend::Postgres, false) => "SET synchronous_commit = off",
        };
        sqlx::query(sql).execute(&mut *conn).await?;
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    async fn save_progress_in(
        &self,
        conn: &mut sqlx::AnyConnection,
        l: &Launch,
        session: &str,
        state: &str,
        completed: bool,
        score: Option<&(dyn Fn(i64) -> NewScore + Sync)>,
        now: i64,
    ) -> Result<bool> {
        use sqlx::Connection as _;
        let (deployment, context) = l.offering();
        let mut tx = conn.begin().await?;
        if self.backend == Backend::Postgres {
            // One learner's saves run one at a time across instances, so the count of completed
            // sessions and the score timestamps below see each other's results. (SQLite holds
            // the database's write lock from the first write on, which does the same.)
            sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
                .bind(format!(
                    "{}\n{}\n{deployment}\n{context}\n{}",
                    l.issuer, l.client_id, l.sub
                ))
                .execute(&mut *tx)
                .await?;
        }
        // Completion is sticky: a later "not completed" post must not undo it.
        bind_learner(
            sqlx::query(
                "INSERT INTO lti_progress (issuer, client_id, deployment_id, context_id, sub, session, state, completed, updated_ms)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                 ON CONFLICT (issuer, client_id, deployment_id, context_id, sub, session) DO UPDATE SET
                   state = excluded.state,
                   completed = CASE WHEN lti_progress.completed = 1 THEN 1 ELSE excluded.completed END,
                   updated_ms = excluded.updated_ms",
            ),
            l,
        )
        .bind(session)
        .bind(state)
        .bind(completed as i64)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let mut queued = false;
        if let (true, Some(score)) = (completed, score) {
            let done: i64 = bind_learner(
                sqlx::query(
                    "SELECT COUNT(*) AS n FROM lti_progress WHERE issuer = $1 AND client_id = $2
                       AND deployment_id = $3 AND context_id = $4 AND sub = $5 AND completed = 1",
                ),
                l,
            )
            .fetch_one(&mut *tx)
            .await?
            .try_get("n")?;
            let s = score(done);
            // Scores for one learner and line item need strictly increasing timestamps; the
            // timestamp is fixed here so a re-sent score is recognised as the same one.
            let last: Option<i64> = sqlx::query(
                "SELECT MAX(ts_ms) AS m FROM lti_outbox WHERE lineitem = $1 AND sub = $2",
            )
            .bind(&s.lineitem)
            .bind(&l.sub)
            .fetch_one(&mut *tx)
            .await?
            .try_get("m")?;
            let ts = last.map_or(now, |last| now.max(last + 1));
            let key = if s.points {
                // One row per score reached; only a better one is sent.
                let best: Option<f64> = sqlx::query(
                    "SELECT MAX(score_given) AS m FROM lti_outbox WHERE lineitem = $1 AND sub = $2 AND session = $3",
                )
                .bind(&s.lineitem)
                .bind(&l.sub)
                .bind(session)
                .fetch_one(&mut *tx)
                .await?
                .try_get("m")?;
                if best.is_some_and(|b| s.score_given <= b) {
                    tx.commit().await?;
                    return Ok(false);
                }
                outbox_key(
                    &l.issuer,
                    &l.client_id,
                    &s.lineitem,
                    &l.sub,
                    &format!("{session}\n{}", s.score_given),
                )
            } else {
                outbox_key(&l.issuer, &l.client_id, &s.lineitem, &l.sub, session)
            };
            let auto = s.auto.as_ref();
            let res = sqlx::query(
                "INSERT INTO lti_outbox (key, issuer, client_id, lineitem, sub, session, score_given, score_maximum, ts_ms, created_ms, next_ms,
                   lineitems, resource_link_id, tag, label, resource_id, activity)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
                 ON CONFLICT (key) DO NOTHING",
            )
            .bind(&key)
            .bind(&l.issuer)
            .bind(&l.client_id)
            .bind(&s.lineitem)
            .bind(&l.sub)
            .bind(session)
            .bind(s.score_given)
            .bind(s.score_maximum)
            .bind(ts)
            .bind(now)
            .bind(now)
            .bind(auto.map(|a| a.lineitems.clone()))
            .bind(auto.map(|a| a.resource_link_id.clone()))
            .bind(auto.map(|a| a.tag.clone()))
            .bind(auto.map(|a| a.label.clone()))
            .bind(auto.map(|a| a.resource_id.clone()))
            .bind(s.activity)
            .execute(&mut *tx)
            .await?;
            queued = res.rows_affected() == 1;
        }
        tx.commit().await?;
        Ok(queued)
    }

    /// The line item found or created before for a link and tag.
    pub async fn known_lineitem(&self, a: &AutoLineItem) -> Result<Option<String>> {
        let row = sqlx::query(
            "SELECT lineitem FROM lti_lineitem WHERE lineitems = $1 AND resource_link_id = $2 AND tag = $3",
        )
        .bind(&a.lineitems)
        .bind(&a.resource_link_id)
        .bind(&a.tag)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| r.try_get("lineitem")).transpose()?)
    }

    /// Remembers the line item of a link and tag; the first one stored wins.
    pub async fn remember_lineitem(&self, a: &AutoLineItem, lineitem: &str) -> Result<String> {
        sqlx::query(
            "INSERT INTO lti_lineitem (lineitems, resource_link_id, tag, lineitem, created_ms)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (lineitems, resource_link_id, tag) DO NOTHING",
        )
        .bind(&a.lineitems)
        .bind(&a.resource_link_id)
        .bind(&a.tag)
        .bind(lineitem)
        .bind(super::now_ms())
        .execute(&self.pool)
        .await?;
        Ok(self
            .known_lineitem(a)
            .await?
            .unwrap_or_else(|| lineitem.to_string()))
    }

    /// Takes the next due score for `lease`, unless another instance holds it.
    pub async fn claim_outbox(
        &self,
        owner: &str,
        now_ms: i64,
        lease_ms: i64,
    ) -> Result<Option<OutboxRow>> {
        let pick = match self.backend {
            // SKIP LOCKED: instances racing for the same row don't wait on each other.
            Backend::Postgres => {
                "SELECT key FROM lti_outbox
                 WHERE delivered_ms IS NULL AND dead = 0 AND next_ms <= $3
                   AND (lease_until_ms IS NULL OR lease_until_ms < $3)
                 ORDER BY next_ms LIMIT 1 FOR UPDATE SKIP LOCKED"
            }
            // SQLite runs one writer at a time, so the UPDATE below is already atomic.
            Backend::Sqlite => {
                "SELECT key FROM lti_outbox
                 WHERE delivered_ms IS NULL AND dead = 0 AND next_ms <= $3
                   AND (lease_until_ms IS NULL OR lease_until_ms < $3)
                 ORDER BY next_ms LIMIT 1"
            }
        };
        let row = sqlx::query(&format!(
            "UPDATE lti_outbox SET lease_owner = $1, lease_until_ms = $2
             WHERE key = ({pick})
               AND (lease_until_ms IS NULL OR lease_until_ms < $3)
             RETURNING {OUTBOX_COLUMNS}"
        ))
        .bind(owner)
        .bind(now_ms + lease_ms)
        .bind(now_ms)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(OutboxRow {
            key: row.try_get("key")?,
            issuer: row.try_get("issuer")?,
            client_id: row.try_get("client_id")?,
            lineitem: row.try_get("lineitem")?,
            sub: row.try_get("sub")?,
            session: row.try_get("session")?,
            score_given: row.try_get("score_given")?,
            score_maximum: row.try_get("score_maximum")?,
            ts_ms: row.try_get("ts_ms")?,
            attempts: row.try_get("attempts")?,
            auto: match row.try_get::<Option<String>, _>("lineitems")? {
                None => None,
                Some(lineitems) => Some(AutoLineItem {
                    lineitems,
                    resource_link_id: row
                        .try_get::<Option<String>, _>("resource_link_id")?
                        .unwrap_or_default(),
                    tag: row.try_get::<Option<String>, _>("tag")?.unwrap_or_default(),
                    label: row
                        .try_get::<Option<String>, _>("label")?
                        .unwrap_or_default(),
                    resource_id: row
                        .try_get::<Option<String>, _>("resource_id")?
                        .unwrap_or_default(),
                }),
            },
            activity: row.try_get("activity")?,
        }))
    }

    pub async fn outbox_delivered(&self, key: &str, owner: &str) -> Result<()> {
        sqlx::query(
            "UPDATE lti_outbox SET delivered_ms = $1, lease_owner = NULL, lease_until_ms = NULL, last_error = NULL
             WHERE key = $2 AND lease_owner = $3",
        )
        .bind(super::now_ms())
        .bind(key)
        .bind(owner)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn outbox_failed(
        &self,
        key: &str,
        owner: &str,
        next_ms: i64,
        error: &str,
        dead: bool,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE lti_outbox SET attempts = attempts + 1, next_ms = $1, last_error = $2, dead = $3,
               lease_owner = NULL, lease_until_ms = NULL
             WHERE key = $4 AND lease_owner = $5",
        )
        .bind(next_ms)
        .bind(error)
        .bind(dead as i64)
        .bind(key)
        .bind(owner)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Counts of outbox rows: (pending, delivered, dead), for `/health`.
    pub async fn outbox_counts(&self) -> Result<(i64, i64, i64)> {
        let row = sqlx::query(
            "SELECT
               COALESCE(SUM(CASE WHEN delivered_ms IS NULL AND dead = 0 THEN 1 ELSE 0 END), 0) AS pending,
               COALESCE(SUM(CASE WHEN delivered_ms IS NOT NULL THEN 1 ELSE 0 END), 0) AS delivered,
               COALESCE(SUM(CASE WHEN dead = 1 THEN 1 ELSE 0 END), 0) AS dead
             FROM lti_outbox",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok((
            row.try_get("pending")?,
            row.try_get("delivered")?,
            row.try_get("dead")?,
        ))
    }

    pub async fn put_deep_link(&self, d: &DeepLinkRequest) -> Result<()> {
        sqlx::query(
            "INSERT INTO lti_deep_link (handle, issuer, client_id, deployment_id, return_url, data, accept_multiple, expires_ms)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&d.handle)
        .bind(&d.issuer)
        .bind(&d.client_id)
        .bind(&d.deployment_id)
        .bind(&d.return_url)
        .bind(&d.data)
        .bind(d.accept_multiple as i64)
        .bind(d.expires_ms)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Reads (`take == false`) or consumes a deep-linking request.
    pub async fn deep_link(
        &self,
        handle: &str,
        take: bool,
        now_ms: i64,
    ) -> Result<Option<DeepLinkRequest>> {
        let sql = if take {
            "DELETE FROM lti_deep_link WHERE handle = $1 RETURNING handle, issuer, client_id, deployment_id, return_url, data, accept_multiple, expires_ms"
        } else {
            "SELECT handle, issuer, client_id, deployment_id, return_url, data, accept_multiple, expires_ms FROM lti_deep_link WHERE handle = $1"
        };
        let row = sqlx::query(sql)
            .bind(handle)
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else { return Ok(None) };
        let d = DeepLinkRequest {
            handle: row.try_get("handle")?,
            issuer: row.try_get("issuer")?,
            client_id: row.try_get("client_id")?,
            deployment_id: row.try_get("deployment_id")?,
            return_url: row.try_get("return_url")?,
            data: row.try_get("data")?,
            accept_multiple: row.try_get::<i64, _>("accept_multiple")? != 0,
            expires_ms: row.try_get("expires_ms")?,
        };
        Ok((d.expires_ms >= now_ms).then_some(d))
    }

    /// Stores (or replaces) a dynamic registration: the platform's issuer and
    /// client id, and its whole registration as JSON (the store does not need
    /// to know its fields).
    pub async fn put_platform(&self, issuer: &str, client_id: &str, config: &str) -> Result<()> {
        let mut conn = self.pool.acquire().await?;
        self.durability(&mut conn, true).await?;
        let result = sqlx::query(
            "INSERT INTO lti_platform (issuer, client_id, config, created_ms) VALUES ($1, $2, $3, $4)
             ON CONFLICT (issuer, client_id) DO UPDATE SET config = excluded.config",
        )
        .bind(issuer)
        .bind(client_id)
        .bind(config)
        .bind(super::now_ms())
        .execute(&mut *conn)
        .await;
        self.durability(&mut conn, false).await?;
        result?;
        Ok(())
    }

    /// The stored registrations (as JSON) of one issuer, oldest first.
    pub async fn platforms_for(&self, issuer: &str) -> Result<Vec<String>> {
        let rows =
            sqlx::query("SELECT config FROM lti_platform WHERE issuer = $1 ORDER BY created_ms")
                .bind(issuer)
                .fetch_all(&self.pool)
                .await?;
        rows.iter()
            .map(|r| Ok(r.try_get::<String, _>("config")?))
            .collect()
    }
}

/// The SQLite database in the data dir (without `--database`).
pub const SQLITE_FILE: &str = "coursepack-lti.sqlite";

/// The database holds launch tokens and learners' work: owner only. SQLite creates its `-wal`
/// and `-shm` files with the mode of the database file, so creating that one 0600 (or
/// tightening an older one) covers them; existing ones are tightened too.
fn private_sqlite_files(path: &std::path::Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(path)
            .with_context(|| format!("creating {}", path.display()))?;
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let p = std::path::PathBuf::from(format!("{}{suffix}", path.display()));
            if let Ok(meta) = std::fs::metadata(&p)
                && meta.permissions().mode() & 0o077 != 0
            {
                std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600))
                    .with_context(|| format!("making {} private", p.display()))?;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// One score per learner, line item and session: the outbox's primary key.
fn outbox_key(issuer: &str, client_id: &str, lineitem: &str, sub: &str, session: &str) -> String {
    use sha2::Digest as _;
    let mut h = sha2::Sha256::new();
    for part in [issuer, client_id, lineitem, sub, session] {
        // Length-prefixed so that no two different tuples hash the same input.
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}
