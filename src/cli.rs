//! The command line: `serve`, `demo`, `migrate`, `token`, `sandbox`, `rewrap`, `bench`.

use clap::{Parser, Subcommand};

use crate::{bench::BenchArgs, config::Config};

/// Next_KE Integrations: LinkedIn, calendar and ATS integrations behind gRPC.
#[derive(Debug, Parser)]
#[command(name = "nextke-integrations", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
    /// Settings, from flags or environment variables.
    #[command(flatten)]
    pub config: Config,
}

/// One subcommand.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (migrates the database first).
    Serve,
    /// Run the server against sandbox providers on loopback, and print a token.
    Demo,
    /// Apply database migrations and exit.
    Migrate,
    /// Print a development token signed with the configured key.
    Token {
        /// The user id (`sub`).
        #[arg(long)]
        user: String,
        /// An organization membership, `ORG:admin` or `ORG:member`; repeatable.
        #[arg(long = "org")]
        orgs: Vec<String>,
        /// Mark the caller as an internal service.
        #[arg(long)]
        service: bool,
        /// Lifetime in seconds.
        #[arg(long, default_value_t = 3600)]
        ttl: u64,
    },
    /// Run the sandbox providers on loopback until ctrl-c.
    Sandbox {
        /// Address of the generic OAuth sandbox; the LinkedIn sandbox takes the next port.
        #[arg(long, default_value = "127.0.0.1:50100")]
        listen: std::net::SocketAddr,
    },
    /// Re-seal every stored secret with the primary encryption key.
    Rewrap,
    /// Measure the performance targets: `bench [server]` (the gRPC server
    /// against a bare tonic server) or `bench jobs` (the job engine).
    Bench(BenchArgs),
}
