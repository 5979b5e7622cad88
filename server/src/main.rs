//! The Palisade binary: configuration, telemetry, then the server until a signal stops it.
use anyhow::Context;
use leptos::config::get_configuration;
use server::{config::Settings, startup::Application, telemetry};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // `.env` is a development convenience; real environment variables win over it.
    dotenvy::dotenv().ok();
    let settings = Settings::from_env()?;
    telemetry::init(settings.log_format);

    let leptos_options = get_configuration(None)
        .context("failed to read the Leptos configuration")?
        .leptos_options;
    let app = Application::build(settings, leptos_options).await?;
    tracing::info!(address = %app.local_addr(), "listening");
    app.run_until_stopped(shutdown_signal()).await?;
    tracing::info!("stopped");
    Ok(())
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM (what orchestrators send).
async fn shutdown_signal() {
    let ctrl_c = async {
        tokio::signal::ctrl_c().await.ok();
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        _ = ctrl_c => tracing::info!("SIGINT received"),
        _ = terminate => tracing::info!("SIGTERM received"),
    }
}
