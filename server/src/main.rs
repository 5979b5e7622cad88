//! The Palisade binary: configuration, telemetry, then the HTTP server and the outbox worker
//! side by side until a signal, or either of them stopping, stops both.
use anyhow::Context;
use leptos::config::get_configuration;
use server::{config::Settings, mailer::Mailer, startup::Application, telemetry, worker};
use tokio::sync::watch;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // `.env` is a development convenience; real environment variables win over it.
    dotenvy::dotenv().ok();
    // `grant-admin`, `seed-dev`, `help`: run and exit. No command (or `serve`) serves.
    if let Some(code) = server::cli::dispatch().await {
        std::process::exit(code);
    }
    let settings = Settings::from_env()?;
    telemetry::init(settings.log_format);
    if settings.secret_generated {
        tracing::warn!(
            "PALISADE_SECRET is not set: using a random secret for this process \
             (API access tokens end at restart); set one in .env to keep them"
        );
    }

    let leptos_options = get_configuration(None)
        .context("failed to read the Leptos configuration")?
        .leptos_options;
    let mailer = Mailer::from_settings(&settings).context("SMTP_URL is not usable")?;
    let outbox = settings.outbox.clone();
    let app = Application::build(settings, leptos_options).await?;
    tracing::info!(address = %app.local_addr(), "listening");
    match app.metrics_addr() {
        Some(address) => tracing::info!(%address, "serving /metrics"),
        None => tracing::info!("metrics not served (PALISADE_METRICS_LISTEN=off)"),
    }

    // One stop for both: set by SIGINT/SIGTERM, or by whichever of the two ends first.
    let (stop, stopped) = watch::channel(false);
    let until_stopped = || {
        let mut stopped = stopped.clone();
        async move {
            let _ = stopped.wait_for(|stop| *stop).await;
        }
    };
    let worker = if outbox.worker_enabled {
        let pool = worker::dedicated_pool(&app.state().db);
        let task = worker::run_worker(pool.clone(), mailer, outbox, until_stopped());
        Some((tokio::spawn(task), pool))
    } else {
        tracing::info!("outbox worker disabled (PALISADE_WORKER_ENABLED=false)");
        None
    };
    let server = async {
        let result = app.run_until_stopped(until_stopped()).await;
        match &result {
            Ok(()) => tracing::info!("HTTP server stopped"),
            Err(e) => tracing::error!(error = ?e, "HTTP server failed"),
        }
        stop.send_replace(true);
        result
    };
    let worker = async {
        let Some((task, pool)) = worker else {
            return Ok(());
        };
        let result = task.await;
        let asked = stop.send_replace(true);
        pool.close().await;
        match result {
            Ok(()) if asked => Ok(()),
            Ok(()) => {
                tracing::error!("outbox worker stopped on its own");
                anyhow::bail!("the outbox worker stopped on its own")
            }
            Err(e) => {
                tracing::error!(error = %e, "outbox worker panicked");
                Err(e).context("the outbox worker panicked")
            }
        }
    };
    let signal = async {
        tokio::select! {
            () = shutdown_signal() => {
                stop.send_replace(true);
            }
            () = until_stopped() => {}
        }
    };
    let (server, worker, ()) = tokio::join!(server, worker, signal);
    server?;
    worker?;
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
