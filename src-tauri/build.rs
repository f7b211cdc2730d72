//! Tauri's build step (capabilities, icons, the context), after making sure there is a
//! frontend to embed: a checkout where the UI was not built yet (`npm run build:ui`)
//! gets a one-page placeholder in `ui/dist`, so `cargo build`/`clippy` work anywhere.

fn main() {
    let dist = std::path::Path::new("../ui/dist");
    let index = dist.join("index.html");
    if !index.exists() {
        println!("cargo:warning=ui/dist is missing: embedding a placeholder page (run `npm run build:ui`)");
        let page = "<!doctype html><html><head><meta charset=\"utf-8\"><title>Idlewatt</title></head>\
<body style=\"font-family:sans-serif\"><h1>Idlewatt</h1><p id=\"placeholder\">The interface was not built. \
Run <code>npm run build:ui</code>, then start Idlewatt again.</p></body></html>\n";
        if std::fs::create_dir_all(dist).and_then(|()| std::fs::write(&index, page)).is_err() {
            println!("cargo:warning=could not write the placeholder {}", index.display());
        }
    }
    println!("cargo:rerun-if-changed=../ui/dist/index.html");
    tauri_build::build();
}
