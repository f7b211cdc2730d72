//! `account`, `faucet` and `deposit`: what the client holds, and funding it — from the
//! devnet faucet, or by an ERC-20 transfer to the treasury on a real chain that the
//! coordinator credits once it has its confirmations.

use std::time::Duration;

use anyhow::Context;
use idlewatt::client::deposit;
use idlewatt_protocol::TokenAmount;

use super::output::{self, BadArgument};
use super::session::{Options, with_api};

fn tokens(s: &str) -> anyhow::Result<TokenAmount> {
    TokenAmount::from_token_str(s)
        .map_err(|e| BadArgument(format!("{s:?} is not an amount of tokens like 1.5: {e}")).into())
}

/// `account`.
pub fn account(o: &Options) -> anyhow::Result<()> {
    let a = with_api(o, |api, _| async move { anyhow::Ok(api.account().await?) })?;
    if o.json {
        return output::json(&a);
    }
    println!("client     {}", a.address);
    println!("balance    {} tokens (available for new jobs)", a.balance.to_token_string());
    println!("escrow     {} tokens (held for running jobs)", a.escrow.to_token_string());
    println!("deposited  {} tokens", a.deposited.to_token_string());
    println!("spent      {} tokens (paid for verified work)", a.spent.to_token_string());
    println!("jobs       {} active", a.active_jobs);
    Ok(())
}

/// `faucet [--amount X]`.
pub fn faucet(o: &Options, amount: Option<&str>) -> anyhow::Result<()> {
    let amount = amount.map(tokens).transpose()?;
    let grant =
        with_api(o, |api, _| async move { anyhow::Ok(api.faucet(amount).await.context("asking the faucet")?) })?;
    if o.json {
        return output::json(&grant);
    }
    println!(
        "Credited {} tokens to {}; balance {} tokens ({} more available from the faucet).",
        grant.credited.to_token_string(),
        grant.address,
        grant.balance.to_token_string(),
        grant.remaining.to_token_string()
    );
    Ok(())
}

/// `deposit --amount X [--rpc-url URL]`.
pub fn deposit(o: &Options, amount: &str, rpc_url: Option<&str>, wait: u64) -> anyhow::Result<()> {
    let amount = tokens(amount)?;
    if amount == TokenAmount::ZERO {
        return Err(BadArgument("deposit more than 0 tokens".into()).into());
    }
    let json = o.json;
    let (info, tx, seen) = with_api(o, |api, signer| async move {
        let info = api.deposit_info().await?;
        if info.devnet {
            anyhow::bail!(
                "this network is a devnet with no chain, so there is nothing to deposit to: fund your account with `idlewatt-client faucet`"
            );
        }
        let rpc = rpc_url.context(
            "deposits are sent on the chain: pass its JSON-RPC URL with --rpc-url http://… (or set IDLEWATT_CHAIN_RPC_URL)",
        )?;
        if !json {
            eprintln!(
                "Sending {} {} to the treasury {} on chain {} …",
                amount.to_token_string(),
                info.token_symbol,
                info.treasury.map(|t| t.to_string()).unwrap_or_default(),
                info.chain_id
            );
        }
        let tx = deposit::send(rpc, &info, &signer, amount).await?;
        if !json {
            eprintln!(
                "Transfer {tx} is in a block; waiting for {} confirmation(s) and the credit …",
                info.confirmations
            );
        }
        let seen = deposit::wait_credited(&api, &info, tx, Duration::from_secs(wait)).await?;
        anyhow::Ok((info, tx, seen))
    })?;
    if json {
        return output::json(
            &serde_json::json!({ "tx_hash": tx, "deposits": seen, "confirmations": info.confirmations }),
        );
    }
    for d in &seen {
        match &d.reason {
            None => println!(
                "Credited {} tokens from {} (transaction {tx}, block {}).",
                d.amount.to_token_string(),
                d.from,
                d.block
            ),
            Some(r) => println!("Not credited: {r} (transaction {tx})."),
        }
    }
    Ok(())
}
