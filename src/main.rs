//! Binary entry point: parse the command line, load settings, start logging, run.

use clap::Parser;
use tokenward::cli::{self, Cli};
use tokenward::config::Settings;
use tokenward::telemetry;

#[actix_web::main]
async fn main() -> std::process::ExitCode {
    let _ = dotenvy::dotenv();
    let args = Cli::parse();
    let settings = match Settings::load(args.config.as_deref()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("tokenward: configuration error: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    telemetry::init(settings.log_format);
    match cli::run(args, settings).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tokenward: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
