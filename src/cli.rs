//! Command line: `serve` (default), `migrate`, `cleanup`, `user create`.

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;

use clap::{Parser, Subcommand};
use secrecy::ExposeSecret;

use crate::config::Settings;
use crate::db::{self, write_transaction};
use crate::dto::validate;
use crate::jobs;
use crate::security::password;
use crate::services::admin::passwords::{reset_by_email, Reset};
use crate::services::cleanup::{CleanupPolicy, CleanupService};
use crate::services::keys;
use crate::services::normalize_email;
use crate::services::user::{insert_account, AccountSpec};
use crate::startup::{connect, Application, StartupError};

/// tokenward: token and session server.
#[derive(Debug, Parser)]
#[command(name = "tokenward", version, about)]
pub struct Cli {
    /// TOML config file (environment variables override it).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// What to do (default: serve).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server (migrations are applied first).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Run the cleanup job once (expired tokens, ended sessions, old audit events) and exit.
    Cleanup,
    /// Manage accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage JWT signing keys.
    #[command(subcommand)]
    Keys(KeysCommand),
}

/// `keys` subcommands.
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Make a new key (of TOKENWARD_JWT_ALGORITHM) the signer; older keys keep
    /// verifying until every token they signed has expired.
    Rotate {
        /// Confirms a switch to another algorithm than the keys in use have
        /// (the servers must be configured with it too, or they keep signing
        /// with the old key).
        #[arg(long, value_name = "ALG")]
        algorithm: Option<String>,
    },
    /// List signing keys.
    List,
}

/// `user` subcommands.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an account. The password is read from TOKENWARD_USER_PASSWORD or
    /// standard input, never from the command line.
    Create {
        /// Email address.
        #[arg(long)]
        email: String,
        /// Role (repeatable); `user` when none.
        #[arg(long = "role")]
        roles: Vec<String>,
        /// Display name.
        #[arg(long, default_value = "")]
        full_name: String,
    },
    /// Reset an account's password (how an admin who is locked out gets back
    /// in): every session ends and the next login must change it. A password
    /// is generated and printed once, unless `--password-stdin` reads one
    /// (or TOKENWARD_USER_PASSWORD holds one).
    ResetPassword {
        /// Email address.
        #[arg(long)]
        email: String,
        /// Read the new password from standard input instead of generating one.
        #[arg(long)]
        password_stdin: bool,
    },
}

/// Runs the parsed command.
pub async fn run(cli: Cli, settings: Settings) -> Result<(), StartupError> {
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let app = Application::build(settings).await?;
            app.run_until_stopped()
                .await
                .map_err(|e| format!("server error: {e}"))
        }
        Command::Migrate => tokio::task::spawn_blocking(move || migrate(&settings))
            .await
            .map_err(|e| e.to_string())?,
        Command::Keys(cmd) => tokio::task::spawn_blocking(move || keys_command(&settings, cmd))
            .await
            .map_err(|e| e.to_string())?,
        Command::Cleanup => cleanup(settings).await,
        Command::User(UserCommand::Create {
            email,
            roles,
            full_name,
        }) => {
            let password = read_password()?;
            tokio::task::spawn_blocking(move || {
                create_user(&settings, email, roles, full_name, password)
            })
            .await
            .map_err(|e| e.to_string())?
        }
        Command::User(UserCommand::ResetPassword {
            email,
            password_stdin,
        }) => {
            let given = match password_stdin || std::env::var("TOKENWARD_USER_PASSWORD").is_ok() {
                true => Some(read_password()?),
                false => None,
            };
            tokio::task::spawn_blocking(move || reset_password(&settings, &email, given))
                .await
                .map_err(|e| e.to_string())?
        }
    }
}

fn reset_password(
    settings: &Settings,
    email: &str,
    given: Option<secrecy::SecretString>,
) -> Result<(), StartupError> {
    let email = normalize_email(email);
    let generated = given.is_none();
    let plain = given.map_or_else(password::generate, |p| p.expose_secret().to_string());
    let reasons = settings.password_policy().check(&plain, &email, "");
    if !reasons.is_empty() {
        return Err(format!("the password {}", reasons.join("; ")));
    }
    require_existing(settings)?;
    let hash =
        password::hash(&plain, settings.bcrypt_cost).map_err(|e| format!("bcrypt failed: {e}"))?;
    let (pool, _) = connect(settings, 1)?;
    let ended = db::migrate_locked(&pool, |c| {
        write_transaction(c, |c| {
            let reset = Reset {
                actor: None,
                generated,
            };
            reset_by_email(c, &email, &hash, reset)
        })
    })
    .map_err(|e| match e {
        crate::errors::AppError::NotFound => format!("no account has the email {email}"),
        other => other.to_string(),
    })?;
    println!(
        "password reset for {email}: {} sessions ended; it must be changed at the next login",
        ended.sessions.len()
    );
    if generated {
        println!("temporary password (shown once): {plain}");
    }
    Ok(())
}

/// Refuses to go on when the database or the key file the settings name is not
/// there: only `serve` and `migrate` create them, so a command started in
/// another directory fails with the path it looked at instead of leaving an
/// empty database or a new key behind.
fn require_existing(settings: &Settings) -> Result<(), StartupError> {
    let here = std::env::current_dir()
        .map(|d| d.display().to_string())
        .unwrap_or_else(|_| "?".into());
    let url = db::DatabaseUrl::parse(&settings.database_url, settings.db_timeout_secs)?;
    if let Some(path) = url.missing_file() {
        return Err(format!(
            "no database at {} (DATABASE_URL={}, read from the working directory {here}): \
             run this where the server runs, or set DATABASE_URL to the server's database; \
             `tokenward migrate` creates a new one",
            path.display(),
            settings.database_url
        ));
    }
    let key = &settings.encryption_key_file;
    if settings.encryption_key.is_none() && !key.exists() {
        return Err(format!(
            "no key file at {} (read from the working directory {here}): set \
             TOKENWARD_ENCRYPTION_KEY_FILE to the server's key file, or TOKENWARD_ENCRYPTION_KEY",
            key.display()
        ));
    }
    Ok(())
}

fn migrate(settings: &Settings) -> Result<(), StartupError> {
    let (pool, _) = connect(settings, 1)?;
    // With the database comes its key (made here when none is configured).
    let cipher = keys::load_cipher(settings)?;
    db::migrate_locked(&pool, |c| keys::check_cipher(c, &cipher)).map_err(|e| e.to_string())?;
    println!("migrations applied");
    Ok(())
}

fn keys_command(settings: &Settings, cmd: KeysCommand) -> Result<(), StartupError> {
    require_existing(settings)?;
    let (pool, _) = connect(settings, 1)?;
    let cipher = keys::load_cipher(settings)?;
    let algorithm = keys::configured_algorithm(settings);
    let listing = db::migrate_locked(&pool, |c| {
        keys::check_cipher(c, &cipher)?;
        if let KeysCommand::Rotate {
            algorithm: confirmed,
        } = &cmd
        {
            let name = crate::security::jwt::algorithm_name(algorithm);
            let in_use = keys::list(c)?
                .into_iter()
                .find(|k| k.retired_at.is_none())
                .map(|k| k.algorithm);
            if in_use.as_deref().is_some_and(|a| a != name) && confirmed.as_deref() != Some(name) {
                return Err(crate::errors::AppError::internal(format!(
                    "the signing key in use is {}, but TOKENWARD_JWT_ALGORITHM is {name}: \
                     servers configured with {} would keep signing with the old key. Give \
                     every server TOKENWARD_JWT_ALGORITHM={name} and run \
                     `tokenward keys rotate --algorithm {name}` to switch",
                    in_use.as_deref().unwrap_or_default(),
                    in_use.as_deref().unwrap_or_default(),
                )));
            }
            let m = keys::insert_new_key(c, algorithm, &cipher)?;
            println!(
                "new signing key {} ({})",
                m.kid,
                crate::security::jwt::algorithm_name(algorithm)
            );
            keys::retire_unused(c, &m.kid)?;
        }
        keys::list(c)
    })
    .map_err(|e| match e {
        crate::errors::AppError::Internal(m) => m,
        other => other.to_string(),
    })?;
    // The signer: the newest active key of the configured algorithm.
    let name = crate::security::jwt::algorithm_name(algorithm);
    let signer = listing
        .iter()
        .find(|k| k.retired_at.is_none() && k.algorithm == name)
        .map(|k| k.kid.clone());
    println!(
        "{:<24} {:<6} {:<22} {:<22} role",
        "kid", "alg", "created", "retired"
    );
    for k in listing {
        let retired = k
            .retired_at
            .map(crate::util::rfc3339)
            .unwrap_or_else(|| "-".into());
        let role = match (&k.retired_at, signer.as_deref() == Some(k.kid.as_str())) {
            (Some(_), _) => "retired",
            (None, true) => "signs",
            (None, false) => "verifies",
        };
        println!(
            "{:<24} {:<6} {:<22} {:<22} {role}",
            k.kid,
            k.algorithm,
            crate::util::rfc3339(k.created_at),
            retired
        );
    }
    Ok(())
}

async fn cleanup(settings: Settings) -> Result<(), StartupError> {
    require_existing(&settings)?;
    let policy = CleanupPolicy::from_settings(&settings);
    // The pool is only a source of dedicated connections here: one is enough.
    let (_, db) = tokio::task::spawn_blocking(move || connect(&settings, 1))
        .await
        .map_err(|e| e.to_string())??;
    let report = jobs::cleanup::run(&CleanupService::new(db, policy))
        .await
        .map_err(|e| format!("cleanup failed: {e}"))?;
    if report.skipped {
        println!("cleanup skipped: another instance is running it");
        return Ok(());
    }
    let slowest = report
        .slowest
        .map(|s| format!("{} ms ({})", s.duration.as_millis(), s.step))
        .unwrap_or_else(|| "none".into());
    println!(
        "cleanup done in {} ms: {} tokens marked expired, {} tokens, {} sessions and \
         {} audit events deleted; {} statements, slowest {slowest}",
        report.duration.as_millis(),
        report.tokens_marked,
        report.tokens_deleted,
        report.sessions_deleted,
        report.audit_events_deleted,
        report.statements,
    );
    Ok(())
}

fn read_password() -> Result<secrecy::SecretString, StartupError> {
    if let Ok(p) = std::env::var("TOKENWARD_USER_PASSWORD") {
        return Ok(p.into());
    }
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        return rpassword::prompt_password("Password: ")
            .map(Into::into)
            .map_err(|e| format!("cannot read the password: {e}"));
    }
    let mut line = String::new();
    stdin
        .lock()
        .read_line(&mut line)
        .map_err(|e| format!("cannot read the password: {e}"))?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string().into())
}

fn create_user(
    settings: &Settings,
    email: String,
    roles: Vec<String>,
    full_name: String,
    password_plain: secrecy::SecretString,
) -> Result<(), StartupError> {
    let email = normalize_email(&email);
    if !validator::ValidateEmail::validate_email(&email) {
        return Err(format!("{email:?} is not a valid email address"));
    }
    validate::new_password(password_plain.expose_secret())
        .map_err(|e| format!("password {}", e.message.unwrap_or_default()))?;
    let reasons =
        settings
            .password_policy()
            .check(password_plain.expose_secret(), &email, &full_name);
    if !reasons.is_empty() {
        return Err(format!("the password {}", reasons.join("; ")));
    }
    validate::roles(&roles).map_err(|e| format!("roles: {}", e.message.unwrap_or_default()))?;
    require_existing(settings)?;
    let hash = password::hash(password_plain.expose_secret(), settings.bcrypt_cost)
        .map_err(|e| format!("bcrypt failed: {e}"))?;
    let (pool, _) = connect(settings, 1)?;
    let cipher = keys::load_cipher(settings)?;
    let user = db::migrate_locked(&pool, |c| {
        keys::check_cipher(c, &cipher)?;
        write_transaction(c, |c| {
            insert_account(
                c,
                AccountSpec {
                    email,
                    password_hash: hash,
                    full_name,
                    roles: crate::models::Roles::from_names(roles),
                },
            )
        })
    })
    .map_err(|e| match e {
        crate::errors::AppError::Conflict(m) => m,
        other => other.to_string(),
    })?;
    println!(
        "created user {} ({}) with roles {}",
        user.id, user.email, user.roles
    );
    Ok(())
}
