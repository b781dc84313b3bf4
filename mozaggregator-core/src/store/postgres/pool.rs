//! Pools of connections ([`r2d2`]) whose connections may be dropped on any thread.
//!
//! The synchronous client drives its connection with a runtime of its own, also to close it,
//! which cannot run on a worker of another async runtime: a connection (and so a pool, a
//! store) dropped there would abort the process. Each connection here closes through
//! [`super::off_runtime`].

use std::collections::HashMap;
use std::time::Duration;

use postgres::{Client, GenericClient, NoTls, Statement};

use super::location::Location;
use super::off_runtime;
use crate::error::Result;

/// A pool of connections to one database.
pub(super) type Pool = r2d2::Pool<Manager>;

/// Largest number of connections each pool (the primary's, each replica's) keeps.
const POOL_SIZE: u32 = 16;

/// How long a read or write waits for a pooled connection before it fails as
/// [`crate::StoreErrorKind::Unavailable`].
const POOL_WAIT: Duration = Duration::from_secs(5);

/// A pooled client, with the statements prepared on it.
pub(super) struct Conn(Option<Client>, Statements);

/// Most statements kept prepared on one connection (then they are all forgotten).
const MAX_STATEMENTS: usize = 512;

/// The statements prepared on one connection, by SQL text. Their plans are generic (the
/// connection's `plan_cache_mode`) and made once: a metric query names its tables' ids in its
/// text, so its plan is pruned to those partitions once, not at every execution.
#[derive(Default)]
pub(super) struct Statements(HashMap<String, Statement>);

impl Statements {
    /// The statement of `sql`, prepared on the connection of `tx` on first use.
    pub(super) fn get(&mut self, tx: &mut impl GenericClient, sql: String) -> Result<Statement> {
        if let Some(statement) = self.0.get(&sql) {
            return Ok(statement.clone());
        }
        let statement = tx.prepare(&sql)?;
        if self.0.len() >= MAX_STATEMENTS {
            self.0.clear();
        }
        self.0.insert(sql, statement.clone());
        Ok(statement)
    }
}

impl Conn {
    /// The client (always there until the connection is dropped).
    pub(super) fn client(&mut self) -> Result<&mut Client> {
        self.parts().map(|(client, _)| client)
    }

    /// The client and its prepared statements.
    pub(super) fn parts(&mut self) -> Result<(&mut Client, &mut Statements)> {
        match self.0.as_mut() {
            Some(client) => Ok((client, &mut self.1)),
            None => Err(super::fault::other("connection already closed")),
        }
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        let statements = std::mem::take(&mut self.1);
        if let Some(client) = self.0.take() {
            off_runtime(move || drop((statements, client)));
        }
    }
}

/// Makes and checks [`Conn`]s.
pub(super) struct Manager {
    config: postgres::Config,
}

/// A pool of connections to `location`, connecting lazily.
pub(super) fn pool(location: &Location) -> Pool {
    let manager = Manager {
        config: location.config.clone(),
    };
    r2d2::Pool::builder()
        .max_size(POOL_SIZE)
        .min_idle(Some(0))
        .connection_timeout(POOL_WAIT)
        // No round trip to test each connection handed out: a connection that broke fails
        // its request (503 when the database is away) and is dropped when it comes back.
        .test_on_check_out(false)
        .error_handler(Box::new(r2d2::NopErrorHandler))
        .build_unchecked(manager)
}

impl r2d2::ManageConnection for Manager {
    type Connection = Conn;
    type Error = postgres::Error;

    fn connect(&self) -> Result<Conn, postgres::Error> {
        let config = &self.config;
        off_runtime(|| {
            let mut client = config.connect(NoTls)?;
            client.batch_execute("SET plan_cache_mode = force_generic_plan")?;
            Ok(Conn(Some(client), Statements::default()))
        })
    }

    fn is_valid(&self, conn: &mut Conn) -> Result<(), postgres::Error> {
        match conn.0.as_mut() {
            Some(client) => off_runtime(|| client.simple_query("")).map(drop),
            None => Ok(()),
        }
    }

    fn has_broken(&self, conn: &mut Conn) -> bool {
        conn.0.as_ref().is_none_or(Client::is_closed)
    }
}
