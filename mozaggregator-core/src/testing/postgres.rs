//! A private PostgreSQL cluster for tests and benchmarks (features `testing` and `postgres`).
//!
//! [`Cluster::start`] runs `initdb` and `pg_ctl` from the PostgreSQL server binaries of this
//! machine in a new directory, on a free loopback port, trusting local connections; dropping
//! the cluster stops it and removes the directory. As `root` (which `initdb` refuses), the
//! server runs as the `postgres` user. A watchdog process stops the server if the test process
//! dies without dropping it (a `static` cluster, a killed run).
//!
//! The binaries come from `$MOZAGGREGATOR_PG_BIN`, else the newest
//! `/usr/lib/postgresql/<version>/bin` (Debian's layout), else `pg_ctl` on the `PATH`.
//! [`database`] gives each test an empty database of one cluster shared by the whole test
//! process; it fails when PostgreSQL is missing and `CI` is set, and records a visible
//! [`super::skip`] otherwise.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;

/// Environment variable naming the directory of the PostgreSQL server binaries.
pub const PG_BIN_VAR: &str = "MOZAGGREGATOR_PG_BIN";

/// A running private PostgreSQL server.
pub struct Cluster {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
    /// `Some("postgres")` when the server runs as another user than this process.
    run_as: Option<&'static str>,
}

static NEXT: AtomicU32 = AtomicU32::new(0);

impl Cluster {
    /// Creates and starts a cluster.
    ///
    /// # Errors
    /// Why it cannot: no PostgreSQL binaries, `initdb` or `pg_ctl` failing (with their output).
    pub fn start() -> Result<Self, String> {
        let bin = find_bin()?;
        let run_as = is_root().then_some("postgres");
        let dir = std::env::temp_dir().join(format!(
            "mozaggregator-pg-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("no free port: {e}"))?
            .port();
        let cluster = Cluster {
            bin,
            dir,
            port,
            run_as,
        };
        if let Some(user) = run_as {
            run(Command::new("chown").arg(user).arg(&cluster.dir))?;
        }
        let data = cluster.data_dir();
        run(cluster.command("initdb").arg("-D").arg(&data).args([
            "--auth=trust",
            "-U",
            "postgres",
            "--no-sync",
        ]))?;
        cluster.watchdog()?;
        cluster.resume()?;
        Ok(cluster)
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// A command running the server binary `name`, as the cluster's user.
    fn command(&self, name: &str) -> Command {
        let program = self.bin.join(name);
        match self.run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(program);
                c
            }
            None => Command::new(program),
        }
    }

    /// Starts the server again after [`Cluster::pause`] (and the first time).
    ///
    /// # Errors
    /// `pg_ctl`'s output when it fails.
    pub fn resume(&self) -> Result<(), String> {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off \
             -c max_connections=200",
            self.port,
            self.dir.display()
        );
        run(self
            .command("pg_ctl")
            .arg("-D")
            .arg(self.data_dir())
            .args(["-w", "-l"])
            .arg(self.dir.join("log"))
            .args(["-o", &options, "start"]))
    }

    /// Stops the server (fast shutdown: connections are closed), keeping its data.
    ///
    /// # Errors
    /// `pg_ctl`'s output when it fails.
    pub fn pause(&self) -> Result<(), String> {
        run(self
            .command("pg_ctl")
            .arg("-D")
            .arg(self.data_dir())
            .args(["-w", "-m", "fast", "stop"]))
    }

    /// The loopback port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The URL of database `db` of this cluster, as user `postgres`.
    pub fn url(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
    }

    /// Runs `sql` in database `db` with `psql`-free means (one connection), for test set-up.
    ///
    /// # Errors
    /// The database's error.
    pub fn execute(&self, db: &str, sql: &str) -> Result<(), String> {
        let mut client = postgres::Client::connect(&self.url(db), postgres::NoTls)
            .map_err(|e| format!("connecting to {}: {e}", self.url(db)))?;
        client.batch_execute(sql).map_err(|e| format!("{sql}: {e}"))
    }

    /// Creates a new empty database and returns its URL.
    ///
    /// # Errors
    /// The database's error.
    pub fn create_database(&self) -> Result<String, String> {
        let name = format!("t{}", NEXT.fetch_add(1, Ordering::Relaxed));
        self.execute("postgres", &format!("CREATE DATABASE {name}"))?;
        Ok(self.url(&name))
    }

    /// Starts a process that stops the server and removes its directory once this process
    /// has exited, however it exits.
    fn watchdog(&self) -> Result<(), String> {
        let stop = format!(
            "{} -D {} -m immediate stop",
            self.bin.join("pg_ctl").display(),
            self.data_dir().display()
        );
        let stop = match self.run_as {
            Some(user) => format!("runuser -u {user} -- {stop}"),
            None => stop,
        };
        let script = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 1; done; {stop} >/dev/null 2>&1; \
             rm -rf {dir}",
            pid = std::process::id(),
            dir = self.dir.display()
        );
        Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map(drop)
            .map_err(|e| format!("cannot start the watchdog: {e}"))
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self
            .command("pg_ctl")
            .arg("-D")
            .arg(self.data_dir())
            .args(["-m", "immediate", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The cluster shared by the tests of this process, started on first use.
///
/// # Errors
/// Why it cannot start (kept: every later call gets the same answer).
pub fn shared() -> Result<&'static Cluster, String> {
    static SHARED: OnceLock<Result<Cluster, String>> = OnceLock::new();
    SHARED
        .get_or_init(Cluster::start)
        .as_ref()
        .map_err(Clone::clone)
}

/// The URL of a new empty database of the [`shared`] cluster. When PostgreSQL cannot run
/// here: panics under `CI` (the tests must run there), else records a [`super::skip`] and
/// returns `None`.
///
/// # Panics
/// Under `CI` when no cluster can start or the database cannot be created.
pub fn database() -> Option<String> {
    match shared().and_then(Cluster::create_database) {
        Ok(url) => Some(url),
        Err(reason) if std::env::var_os("CI").is_some() => {
            panic!("PostgreSQL is required in CI: {reason}")
        }
        Err(reason) => {
            super::skip(&format!("PostgreSQL cannot run here: {reason}"));
            None
        }
    }
}

fn find_bin() -> Result<PathBuf, String> {
    if let Some(dir) = std::env::var_os(PG_BIN_VAR) {
        return Ok(PathBuf::from(dir));
    }
    let debian = Path::new("/usr/lib/postgresql");
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir(debian)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("pg_ctl").exists().then_some((version, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Ok(bin);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .find(|dir| dir.join("pg_ctl").exists() && dir.join("initdb").exists())
        .ok_or_else(|| {
            format!(
                "no PostgreSQL server binaries (initdb, pg_ctl): install PostgreSQL (Debian: \
                 apt-get install postgresql) or set {PG_BIN_VAR}"
            )
        })
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0")
}

fn run(command: &mut Command) -> Result<(), String> {
    let output = command
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{command:?}: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{command:?} failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}
