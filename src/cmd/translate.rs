//! `coursepack translate extract`: the course's text as an XLIFF 1.2 file
//! for translators, `translations/<lang>.xlf` in the course folder.

use std::path::PathBuf;

use clap::{Args as ClapArgs, Subcommand};

use super::{EXIT_BAD_INPUT, EXIT_FAILURE, EXIT_OK, count, report};
use coursepack_pipeline::load;

#[derive(ClapArgs)]
pub struct Args {
    #[command(subcommand)]
    pub command: TranslateCommand,
}

#[derive(Subcommand)]
pub enum TranslateCommand {
    /// Write or update translations/<LANG>.xlf (XLIFF 1.2) with every
    /// translatable text of the course; translations already there are kept
    Extract(ExtractArgs),
}

#[derive(ClapArgs)]
pub struct ExtractArgs {
    /// The course folder, holding course.toml
    #[arg(default_value = "course", value_parser = super::course_dir)]
    pub course_dir: PathBuf,
    /// The language to translate into (BCP 47), e.g. `cy`
    #[arg(long, value_name = "LANG")]
    pub lang: String,
    /// Only the text this variant shows (the sessions it includes, not
    /// what it replaces with its own text)
    #[arg(long, value_name = "NAME")]
    pub variant: Option<String>,
}

pub fn execute(args: Args) -> i32 {
    match args.command {
        TranslateCommand::Extract(a) => extract(a),
    }
}

fn extract(args: ExtractArgs) -> i32 {
    let out = match load::extract_translation(&args.course_dir, &args.lang, args.variant.as_deref())
    {
        Ok(out) => out,
        Err(diags) => {
            report(&diags);
            eprintln!(
                "error: {} found; nothing was written",
                count(diags.error_count(), "problem")
            );
            return EXIT_BAD_INPUT;
        }
    };
    // Written beside and moved into place: a translator's file is never left half written.
    let write = || -> std::io::Result<()> {
        let dir = out.path.parent().expect("the file is in the course folder");
        std::fs::create_dir_all(dir)?;
        let tmp = dir.join(format!(".coursepack-{}.part", std::process::id()));
        std::fs::write(&tmp, out.xml.as_bytes())?;
        std::fs::rename(&tmp, &out.path).inspect_err(|_| {
            let _ = std::fs::remove_file(&tmp);
        })
    };
    if let Err(e) = write() {
        eprintln!("error: cannot write {}: {e}", out.path.display());
        return EXIT_FAILURE;
    }
    println!(
        "wrote {} ({}: {} new, {} changed since translated, {} dropped)",
        out.path.display(),
        count(out.units, "unit"),
        out.added,
        out.changed,
        out.dropped
    );
    EXIT_OK
}
