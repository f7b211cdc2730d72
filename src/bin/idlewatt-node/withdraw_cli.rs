//! `idlewatt-node withdraw` and `withdrawals`: the same core calls the app makes
//! (`idlewatt::network::withdraw`, `CoordinatorClient::withdrawals`), against the
//! configured coordinator or the embedded local network. A devnet withdrawal (no chain)
//! is labelled `devnet (not on chain)` wherever it is printed.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use idlewatt::network::CoordinatorClient;
use idlewatt::paths::DataDirs;
use idlewatt_protocol::withdrawal::{DEVNET_LABEL, WithdrawalInfo, WithdrawalStatus};

use super::local_network::{close, open};

/// One line for people.
fn describe(w: &WithdrawalInfo) -> String {
    let mut line = format!("{}  {} tokens to {}  {}", w.id, w.amount.to_token_string(), w.to, w.status.as_str());
    if w.devnet {
        line.push_str(&format!("  {DEVNET_LABEL}"));
    }
    if let Some(tx) = w.tx_hash {
        line.push_str(&format!("  tx {tx}"));
    }
    if let Some(block) = w.block {
        line.push_str(&format!("  block {block}"));
    }
    if let Some(reason) = &w.reason {
        line.push_str(&format!("  ({reason})"));
    }
    line
}

/// `withdraw`: signs with the keyring wallet, submits, follows it up to `wait`.
pub fn withdraw(to: &str, amount: &str, json: bool, coordinator: Option<String>, wait: Duration) -> anyhow::Result<()> {
    let data = DataDirs::from_env()?;
    let wallet = idlewatt::wallet::Wallet::new(&data);
    wallet.info()?.context("no wallet yet: create one with `idlewatt-node wallet create`")?;
    let signer = Arc::new(wallet.signer()?);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        let (url, network) = open(coordinator, &data).await?;
        let result = async {
            let client = CoordinatorClient::new(&url, signer.clone())?;
            let journal = idlewatt::network::WithdrawalJournal::in_dir(data.root());
            let mut w = idlewatt::network::withdraw(&client, signer.as_ref(), &journal, to, amount)
                .await
                .with_context(|| format!("withdrawing through {url}"))?;
            if !json {
                println!("{}", describe(&w));
            }
            let deadline = Instant::now() + wait;
            while !w.status.is_final() && Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(500)).await;
                let now = client.withdrawal(&w.id).await?;
                if !json && (now.status != w.status || now.reason != w.reason) {
                    println!("{}", describe(&now));
                }
                w = now;
            }
            if json {
                println!("{}", serde_json::to_string_pretty(&w)?);
            }
            match w.status {
                WithdrawalStatus::Failed => {
                    anyhow::bail!("withdrawal {} failed: {}", w.id, w.reason.as_deref().unwrap_or("no reason given"))
                }
                s if !s.is_final() && !json => {
                    println!("still {}; see `idlewatt-node withdrawals`", s.as_str());
                    Ok(())
                }
                _ => Ok(()),
            }
        }
        .await;
        close(network).await?;
        result
    })
}

/// `withdrawals`: an account's withdrawals, newest first.
pub fn list(
    json: bool,
    address: Option<idlewatt_protocol::Address>,
    coordinator: Option<String>,
) -> anyhow::Result<()> {
    let data = DataDirs::from_env()?;
    let address = match address {
        Some(a) => a,
        None => idlewatt::wallet::Wallet::new(&data)
            .info()?
            .map(|w| w.address)
            .context("no wallet yet: create one with `idlewatt-node wallet create`, or pass --address 0x…")?,
    };
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let list = runtime.block_on(async {
        let (url, network) = open(coordinator, &data).await?;
        let answer = CoordinatorClient::read_only(&url)?.withdrawals(address).await;
        close(network).await?;
        answer.with_context(|| format!("asking {url} for the withdrawals"))
    })?;
    if json {
        println!("{}", serde_json::to_string_pretty(&list)?);
    } else if list.is_empty() {
        println!("no withdrawals yet");
    } else {
        for w in &list {
            println!("{}", describe(w));
        }
    }
    Ok(())
}
