//! `coursepack init`: a new course folder that builds as it is.

use std::path::{Path, PathBuf};

use clap::Args as ClapArgs;

use super::{EXIT_BAD_INPUT, EXIT_FAILURE, EXIT_OK};
use coursepack_pipeline::locale;
use coursepack_pipeline::templates::DEFAULTS;

#[derive(ClapArgs)]
pub struct Args {
    /// The folder to create (it may exist, but must not hold a course.toml)
    pub dir: PathBuf,
    /// Also write the default templates into DIR/templates, and the English
    /// catalogue of the interface's words into DIR/locales/en.toml, to edit
    #[arg(long)]
    pub templates: bool,
    /// Add a variant's skeleton, DIR/variants/NAME.toml, to the course in DIR
    #[arg(long, value_name = "NAME", conflicts_with = "templates")]
    pub variant: Option<String>,
}

const SKELETON: &str = include_str!("../../templates/init/course.toml");

pub fn execute(args: Args) -> i32 {
    if let Some(name) = &args.variant {
        return match super::variant::init(&args.dir, name) {
            Ok(said) => {
                println!("{said}");
                EXIT_OK
            }
            Err(e) => {
                eprintln!("error: {e}");
                EXIT_BAD_INPUT
            }
        };
    }
    let toml = args.dir.join(coursepack_pipeline::load::COURSE_FILE);
    if toml.exists() {
        eprintln!(
            "error: {} already exists\n  = help: choose a new folder; nothing was changed",
            toml.display()
        );
        return EXIT_BAD_INPUT;
    }
    let id = course_id(&args.dir);
    match write(&args.dir, &id, args.templates) {
        Ok(()) => {
            // The skeleton's comments explain each of its keys.
            println!(
                "created {} (its comments explain each key) — build it with `coursepack build {}`",
                toml.display(),
                args.dir.display()
            );
            EXIT_OK
        }
        Err(e) => {
            eprintln!("error: {e}");
            EXIT_FAILURE
        }
    }
}

fn write(dir: &Path, id: &str, templates: bool) -> std::io::Result<()> {
    let with_context = |path: &Path, e: std::io::Error| {
        std::io::Error::new(e.kind(), format!("cannot write {}: {e}", path.display()))
    };
    std::fs::create_dir_all(dir).map_err(|e| with_context(dir, e))?;
    let toml = dir.join(coursepack_pipeline::load::COURSE_FILE);
    std::fs::write(&toml, SKELETON.replace("{{id}}", id)).map_err(|e| with_context(&toml, e))?;
    if templates {
        for (name, text) in DEFAULTS {
            let path = dir.join("templates").join(name);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(|e| with_context(parent, e))?;
            }
            std::fs::write(&path, text).map_err(|e| with_context(&path, e))?;
        }
        let locales = dir.join(locale::COURSE_DIR);
        std::fs::create_dir_all(&locales).map_err(|e| with_context(&locales, e))?;
        let path = locales.join("en.toml");
        std::fs::write(&path, english_catalogue()).map_err(|e| with_context(&path, e))?;
    }
    Ok(())
}

/// The shipped English catalogue, with a word on what the course's copy is.
fn english_catalogue() -> String {
    let (_, shipped) = locale::SHIPPED
        .iter()
        .find(|(tag, _)| *tag == "en")
        .expect("English ships");
    format!(
        "# Every word of the learner interface in English, as coursepack ships them\n\
         # (written by `coursepack init --templates`). For a course in English, an\n\
         # entry here replaces coursepack's: change the ones you want and delete the\n\
         # rest, so that later coursepack versions' words reach them. To add a\n\
         # language, copy this file to locales/<language>.toml and translate it.\n\
         #\n\
         {shipped}"
    )
}

/// A valid course id from the folder name (`My Course 2` -> `my-course-2`).
fn course_id(dir: &Path) -> String {
    let name = dir
        .canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .or_else(|| dir.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_default();
    let mut id = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            id.push(c.to_ascii_lowercase());
        } else if !id.ends_with('-') && !id.is_empty() {
            id.push('-');
        }
    }
    let id = id.trim_matches('-').to_string();
    match id.chars().next() {
        Some(c) if c.is_ascii_lowercase() => id.chars().take(64).collect(),
        _ => format!("course-{id}")
            .trim_end_matches('-')
            .chars()
            .take(64)
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_from_folder_names() {
        assert_eq!(course_id(Path::new("My Course 2")), "my-course-2");
        assert_eq!(course_id(Path::new("2025")), "course-2025");
        assert_eq!(course_id(Path::new("___")), "course");
    }
}
