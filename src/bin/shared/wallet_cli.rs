//! `idlewatt-node wallet …` and `idlewatt-client wallet …`: create, import, show and
//! erase a wallet (the node's or the client's: each tool passes its own). Each
//! command is a few lines over `idlewatt::wallet`. Secrets are read from stdin (never
//! from argv, which other users of the machine can see) and printed only by `create` and
//! `show-phrase`, on stdout, with a warning.

use std::io::{BufRead, IsTerminal, Read, Write};

use clap::Subcommand;
use idlewatt::wallet::{
    ConfirmDelete, KeySource, Overwrite, Phrase, RevealPhrase, Secret, Wallet, WalletError, WalletInfo, WordCount,
};
use serde::Serialize;
use zeroize::Zeroizing;

/// `--words 12|24`.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum Words {
    #[value(name = "12")]
    Twelve,
    #[value(name = "24")]
    TwentyFour,
}

#[derive(Subcommand, Debug)]
pub enum WalletCommand {
    /// Create a new wallet and print its recovery phrase once, to write down.
    Create {
        /// Words in the recovery phrase.
        #[arg(long, value_enum, default_value = "12")]
        words: Words,
        /// Print JSON (address, word_count, phrase) instead of text.
        #[arg(long)]
        json: bool,
        /// Replace the wallet already on this computer (its key is erased from the keyring).
        #[arg(long)]
        replace: bool,
    },
    /// Import a wallet: reads a recovery phrase or a private key (hex) from stdin.
    Import {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
        /// Replace the wallet already on this computer (its key is erased from the keyring).
        #[arg(long)]
        replace: bool,
    },
    /// Print the wallet's address (public).
    Address {
        /// Print JSON (address, source, word_count, backed_up) instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Print the recovery phrase. Anyone who sees it can take your earnings.
    ShowPhrase {
        /// Required: you understand that anyone who sees the phrase owns the wallet.
        #[arg(long, required = true)]
        i_understand: bool,
    },
    /// Prove you wrote the phrase down: type the words it asks for (one per line on stdin).
    ConfirmBackup {
        /// Ask for these 1-based positions instead of random ones.
        #[arg(long, value_delimiter = ',')]
        positions: Vec<usize>,
    },
    /// Erase the wallet from this computer (keyring entry and wallet file).
    Delete {
        /// Required: without your recovery phrase the wallet and its earnings are gone.
        #[arg(long, required = true)]
        i_understand: bool,
    },
}

/// Runs `command` on `wallet`; `tool` (e.g. `idlewatt-node`) names the command line in
/// the hints printed.
pub fn run(wallet: &Wallet, tool: &str, command: WalletCommand) -> anyhow::Result<()> {
    let overwrite = |replace| if replace { Overwrite::ReplaceExisting } else { Overwrite::Refuse };
    match command {
        WalletCommand::Create { words, json, replace } => {
            let count = match words {
                Words::Twelve => WordCount::Twelve,
                Words::TwentyFour => WordCount::TwentyFour,
            };
            let new = wallet.create(count, overwrite(replace))?;
            print_new(&new.info, &new.phrase, json, tool)
        }
        WalletCommand::Import { json, replace } => {
            let secret = Secret::parse(&read_secret()?)?;
            print_info(&wallet.import(&secret, overwrite(replace))?, json, "Imported wallet", tool)
        }
        WalletCommand::Address { json } => {
            print_info(&wallet.info()?.ok_or(WalletError::NoWallet)?, json, "Wallet", tool)
        }
        WalletCommand::ShowPhrase { .. } => {
            let phrase = wallet.show_phrase(RevealPhrase::IUnderstandAnyoneWithItCanTakeMyFunds)?;
            print_phrase(&mut std::io::stdout().lock(), &phrase)?;
            Ok(())
        }
        WalletCommand::ConfirmBackup { positions } => confirm_backup(wallet, positions),
        WalletCommand::Delete { .. } => {
            let address = wallet.delete(ConfirmDelete::EraseKeyFromThisComputer)?;
            println!("Erased wallet {address} from this computer (keyring entry and wallet file).");
            Ok(())
        }
    }
}

/// Reads the phrase or key from stdin into a buffer that is zeroized on drop and never
/// reallocated (so no copy is left behind). On a terminal, one line; otherwise all of it.
fn read_secret() -> anyhow::Result<Zeroizing<String>> {
    const MAX: usize = 4096;
    let mut buf = Zeroizing::new(String::with_capacity(MAX + 1));
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("Type or paste your recovery phrase or private key, then press Enter: ");
        stdin.lock().take(MAX as u64).read_line(&mut buf)?;
    } else {
        stdin.lock().take(MAX as u64).read_to_string(&mut buf)?;
    }
    Ok(buf)
}

#[derive(Serialize)]
struct InfoJson {
    address: String,
    source: KeySource,
    word_count: Option<usize>,
    backed_up: bool,
}

impl From<&WalletInfo> for InfoJson {
    fn from(i: &WalletInfo) -> Self {
        Self {
            address: i.address.to_checksum(None),
            source: i.source,
            word_count: i.word_count,
            backed_up: i.backed_up,
        }
    }
}

fn print_info(info: &WalletInfo, json: bool, what: &str, tool: &str) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(&InfoJson::from(info))?);
        return Ok(());
    }
    let source = match (info.source, info.word_count) {
        (KeySource::Phrase, Some(n)) => format!("recovery phrase, {n} words"),
        (KeySource::Phrase, None) => "recovery phrase".into(),
        (KeySource::PrivateKey, _) => "private key".into(),
    };
    println!("{what} {} ({source})", info.address);
    if info.source == KeySource::Phrase && !info.backed_up {
        println!("Backup not confirmed yet: run `{tool} wallet confirm-backup`.");
    }
    Ok(())
}

fn print_new(info: &WalletInfo, phrase: &Phrase, json: bool, tool: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    if json {
        #[derive(Serialize)]
        struct Created<'a> {
            #[serde(flatten)]
            info: InfoJson,
            phrase: &'a str,
        }
        serde_json::to_writer_pretty(&mut out, &Created { info: info.into(), phrase: phrase.expose() })?;
        writeln!(out)?;
        return Ok(());
    }
    writeln!(out, "Created wallet {}\n", info.address)?;
    writeln!(out, "Your recovery phrase. Write these {} words down on paper, in order,", phrase.word_count())?;
    writeln!(out, "and keep them somewhere safe:\n")?;
    print_phrase(&mut out, phrase)?;
    writeln!(out, "They are the only way to get your wallet back if this computer is lost.")?;
    writeln!(out, "Then run `{tool} wallet confirm-backup` to check what you wrote.")?;
    Ok(())
}

fn print_phrase(out: &mut impl Write, phrase: &Phrase) -> anyhow::Result<()> {
    for (i, word) in phrase.expose().split(' ').enumerate() {
        writeln!(out, "  {:>2}. {word}", i + 1)?;
    }
    writeln!(out, "\nAnyone who sees these words can take your earnings. Idlewatt never asks for them;")?;
    writeln!(out, "do not type them into a website, a chat or a photo.")?;
    Ok(())
}

fn confirm_backup(wallet: &Wallet, positions: Vec<usize>) -> anyhow::Result<()> {
    let positions = if positions.is_empty() { wallet.backup_challenge()? } else { positions };
    let stdin = std::io::stdin();
    let mut answers: Vec<(usize, Zeroizing<String>)> = Vec::with_capacity(positions.len());
    for position in positions {
        eprint!("Word #{position} of your recovery phrase: ");
        let mut line = Zeroizing::new(String::with_capacity(256));
        stdin.lock().take(255).read_line(&mut line)?;
        answers.push((position, line));
    }
    let pairs: Vec<(usize, &str)> = answers.iter().map(|(p, w)| (*p, w.trim())).collect();
    let info = wallet.confirm_backup(&pairs)?;
    eprintln!();
    println!("Backup confirmed for wallet {}.", info.address);
    Ok(())
}
