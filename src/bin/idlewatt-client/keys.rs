//! `keys create|list|revoke`: API keys for tools that authenticate with
//! `Authorization: Bearer <key>` (the OpenAI SDKs). A key is printed once, when it is
//! created (`--json`: `{"key": "…", …}`); the coordinator keeps only its hash.

use clap::Subcommand;
use idlewatt_protocol::TokenAmount;
use idlewatt_protocol::client::{KeyCreate, KeyInfo};

use super::output::{self, BadArgument};
use super::session::{Options, with_api};

#[derive(Subcommand, Debug)]
pub enum KeysCommand {
    /// Create a key and print it once.
    Create {
        /// A name to recognise it by ("laptop", "CI").
        #[arg(long, default_value = "")]
        label: String,
        /// Most the key may spend on jobs in all, in tokens (default: no limit but the balance).
        #[arg(long)]
        spending_limit: Option<String>,
        /// Days until the key stops working (default: until revoked).
        #[arg(long)]
        expires_in_days: Option<u32>,
    },
    /// List your keys (never the keys themselves).
    List,
    /// Revoke a key at once.
    Revoke {
        /// The key's id (from `keys list`).
        id: String,
    },
}

pub fn run(o: &Options, command: KeysCommand) -> anyhow::Result<()> {
    match command {
        KeysCommand::Create { label, spending_limit, expires_in_days } => {
            let spending_limit = spending_limit
                .map(|s| {
                    TokenAmount::from_token_str(&s).map_err(|e| BadArgument(format!("--spending-limit {s:?}: {e}")))
                })
                .transpose()?;
            let expires_at_ms =
                expires_in_days.map(|d| idlewatt_protocol::auth::now_ms() + i64::from(d) * 24 * 3600 * 1000);
            let request = KeyCreate { label, spending_limit, expires_at_ms };
            let created = with_api(o, |api, _| async move { anyhow::Ok(api.create_key(&request).await?) })?;
            if o.json {
                return output::json(&created);
            }
            println!("{}", created.key);
            eprintln!(
                "API key {} created. It is shown only this once: keep it like a password. Use it as `Authorization: Bearer <key>`.",
                created.info.id
            );
            Ok(())
        }
        KeysCommand::List => {
            let keys = with_api(o, |api, _| async move { anyhow::Ok(api.keys().await?) })?;
            if o.json {
                return output::json(&keys);
            }
            if keys.is_empty() {
                println!("no API keys yet: `idlewatt-client keys create`");
            }
            for k in &keys {
                println!("{}", key_line(k));
            }
            Ok(())
        }
        KeysCommand::Revoke { id } => {
            let key = with_api(o, |api, _| async move { anyhow::Ok(api.revoke_key(&id).await?) })?;
            if o.json {
                return output::json(&key);
            }
            println!("revoked: {}", key_line(&key));
            Ok(())
        }
    }
}

fn key_line(k: &KeyInfo) -> String {
    let limit = k.spending_limit.map_or_else(|| "no limit".to_owned(), |l| format!("limit {}", l.to_token_string()));
    let state = if k.revoked_at_ms.is_some() { "revoked" } else { "active" };
    format!("{}  {}…  {:<16} {state:<8} spent {} ({limit})", k.id, k.prefix, k.label, k.spent.to_token_string())
}
