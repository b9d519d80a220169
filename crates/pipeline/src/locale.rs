//! The learner interface's words: one catalogue a language, selected by the
//! course's `language`.
//!
//! Shipped catalogues live in `crates/pipeline/locales/<lang>.toml` and are
//! embedded in the binary. A course may add or override entries from its own
//! `locales/<lang>.toml` beside `course.toml`. An entry is either a text or a
//! table of plural forms (`zero`, `one`, `two`, `few`, `many`, `other`;
//! `other` required), chosen by the language's CLDR plural rules
//! (`icu_plurals`). `{name}` in a text is replaced by the parameter `name`;
//! `{n}` by the count.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use icu_locale_core::Locale;
use icu_plurals::{PluralCategory, PluralRules};

/// The catalogues shipped with coursepack, by language tag.
pub const SHIPPED: &[(&str, &str)] = &[
    ("cy", include_str!("../locales/cy.toml")),
    ("de", include_str!("../locales/de.toml")),
    ("en", include_str!("../locales/en.toml")),
    ("es", include_str!("../locales/es.toml")),
    ("fr", include_str!("../locales/fr.toml")),
];

/// Where a course keeps its own catalogues, relative to its folder.
pub const COURSE_DIR: &str = "locales";

/// One entry: a text, or its plural forms by CLDR category name.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(untagged)]
pub enum Entry {
    Text(String),
    Plural(BTreeMap<String, String>),
}

const CATEGORIES: &[&str] = &["zero", "one", "two", "few", "many", "other"];

/// The catalogue in force for one language.
#[derive(Debug)]
pub struct Catalogue {
    /// The BCP 47 tag the catalogue was chosen for (the course's `language`).
    pub language: String,
    /// The catalogue's own tag (`cy` for a course in `cy-GB`).
    pub chosen: String,
    /// Whether pages in this language are written right to left.
    pub rtl: bool,
    entries: BTreeMap<String, Entry>,
}

/// What went wrong choosing or reading a catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// No catalogue, shipped or the course's, for the language.
    NoCatalogue {
        language: String,
        available: Vec<String>,
    },
    /// A course's catalogue file does not parse, or has a wrong entry.
    BadFile { path: PathBuf, message: String },
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::NoCatalogue { language, .. } => write!(
                f,
                "there is no catalogue of interface words for the language `{language}`"
            ),
            Problem::BadFile { path, message } => write!(f, "{}: {message}", path.display()),
        }
    }
}

/// What loading a catalogue found worth telling without failing.
#[derive(Debug, Default)]
pub struct Loaded {
    pub catalogue: Option<Catalogue>,
    /// Keys a course's catalogue for a language that ships none leaves out
    /// (they are shown in English).
    pub missing: Vec<String>,
}

/// The tags to try for `language`, most specific first: `cy-Latn-GB`,
/// `cy-Latn`, `cy-GB`, `cy`.
pub fn fallbacks(language: &str) -> Vec<String> {
    let Ok(locale) = language.parse::<Locale>() else {
        return vec![language.to_ascii_lowercase()];
    };
    let id = &locale.id;
    let lang = id.language.as_str().to_string();
    let mut out = vec![id.to_string()];
    if let Some(script) = id.script {
        out.push(format!("{lang}-{script}"));
    }
    if let Some(region) = id.region {
        out.push(format!("{lang}-{region}"));
    }
    out.push(lang);
    out.dedup();
    out
}

/// Scripts written right to left (ISO 15924), and the languages whose
/// usual script is one of them when the tag names no script (from CLDR's
/// likely subtags). A tag's own script wins: `az-Arab` is right to left,
/// `ku-Latn` is not.
const RTL_SCRIPTS: &[&str] = &[
    "Adlm", "Arab", "Hebr", "Mand", "Mend", "Nkoo", "Rohg", "Samr", "Syrc", "Thaa", "Yezi",
];
const RTL_LANGUAGES: &[&str] = &[
    "ar", "ckb", "dv", "fa", "he", "ks", "lrc", "mzn", "ps", "sd", "syr", "ug", "ur", "yi",
];

/// Whether text in `language` runs right to left.
pub fn is_rtl(language: &str) -> bool {
    let Ok(locale) = language.parse::<Locale>() else {
        return false;
    };
    match locale.id.script {
        Some(script) => RTL_SCRIPTS.contains(&script.as_str()),
        None => RTL_LANGUAGES.contains(&locale.id.language.as_str()),
    }
}

/// Parses one catalogue file into flat dotted keys.
pub fn parse(text: &str) -> Result<BTreeMap<String, Entry>, String> {
    let table: toml::Table = toml::from_str(text).map_err(|e| e.message().to_string())?;
    let mut out = BTreeMap::new();
    flatten("", &table, &mut out)?;
    Ok(out)
}

fn flatten(
    prefix: &str,
    table: &toml::Table,
    out: &mut BTreeMap<String, Entry>,
) -> Result<(), String> {
    for (k, v) in table {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            toml::Value::String(s) => {
                out.insert(key, Entry::Text(s.clone()));
            }
            toml::Value::Table(t) if t.contains_key("other") => {
                let mut forms = BTreeMap::new();
                for (cat, text) in t {
                    if !CATEGORIES.contains(&cat.as_str()) {
                        return Err(format!(
                            "`{key}.{cat}` is not a plural form (the forms are {})",
                            CATEGORIES.join(", ")
                        ));
                    }
                    let Some(text) = text.as_str() else {
                        return Err(format!("`{key}.{cat}` must be a text"));
                    };
                    forms.insert(cat.clone(), text.to_string());
                }
                out.insert(key, Entry::Plural(forms));
            }
            toml::Value::Table(t) => flatten(&key, t, out)?,
            _ => return Err(format!("`{key}` must be a text or a table of plural forms")),
        }
    }
    Ok(())
}

fn shipped(tag: &str) -> Option<BTreeMap<String, Entry>> {
    SHIPPED
        .iter()
        .find(|(t, _)| *t == tag)
        .map(|(_, text)| parse(text).expect("shipped catalogues parse"))
}

/// The catalogue for `language`, with the course's own entries from
/// `course_dir/locales/` (when given) over the shipped ones. Entries a
/// course's catalogue for a language coursepack does not ship leaves out
/// come from English and are listed in [`Loaded::missing`].
pub fn load(language: &str, course_dir: Option<&Path>) -> Result<Loaded, Problem> {
    let tags = fallbacks(language);
    let english = shipped("en").expect("English ships");
    let mut own_tags = Vec::new();
    let mut chosen = None;
    for tag in &tags {
        let own = match course_dir {
            Some(dir) => read_own(&dir.join(COURSE_DIR).join(format!("{tag}.toml")))?,
            None => None,
        };
        let base = shipped(tag);
        if own.is_some() || base.is_some() {
            chosen = Some((tag.clone(), own, base));
            break;
        }
    }
    let Some((tag, own, base)) = chosen else {
        if let Some(dir) = course_dir {
            own_tags = course_tags(&dir.join(COURSE_DIR));
        }
        let mut available: Vec<String> = SHIPPED.iter().map(|(t, _)| t.to_string()).collect();
        available.extend(own_tags);
        available.sort();
        available.dedup();
        return Err(Problem::NoCatalogue {
            language: language.to_string(),
            available,
        });
    };
    let mut missing = Vec::new();
    let mut entries = match base {
        Some(base) => base,
        None => {
            let own = own.as_ref().expect("own catalogue");
            missing = english
                .keys()
                .filter(|k| !own.contains_key(*k))
                .cloned()
                .collect();
            english.clone()
        }
    };
    if let Some(own) = own {
        entries.extend(own);
    }
    Ok(Loaded {
        catalogue: Some(Catalogue {
            language: language.to_string(),
            chosen: tag,
            rtl: is_rtl(language),
            entries,
        }),
        missing,
    })
}

fn plural_rules(language: &str) -> PluralRules {
    let locale: Locale = language.parse().unwrap_or(Locale::UNKNOWN);
    PluralRules::try_new_cardinal((&locale).into())
        .or_else(|_| PluralRules::try_new_cardinal((&Locale::UNKNOWN).into()))
        .expect("compiled plural data has the root locale")
}

fn read_own(path: &Path) -> Result<Option<BTreeMap<String, Entry>>, Problem> {
    let bad = |message: String| Problem::BadFile {
        path: path.to_path_buf(),
        message,
    };
    if !path.exists() {
        return Ok(None);
    }
    let bytes = crate::course_fs::open_regular(path)
        .map_err(|_| bad("cannot be read as a regular file".into()))
        .and_then(|f| {
            crate::course_fs::read_limited(f, crate::course_fs::TEXT_LIMIT)
                .map_err(|r| bad(format!("{r}")))
        })?;
    let text = String::from_utf8(bytes).map_err(|_| bad("is not UTF-8 text".into()))?;
    parse(&text).map(Some).map_err(bad)
}

fn course_tags(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut tags: Vec<String> = entries
        .flatten()
        .filter_map(|e| {
            e.file_name()
                .to_str()
                .and_then(|n| n.strip_suffix(".toml"))
                .map(str::to_string)
        })
        .collect();
    tags.sort();
    tags
}

impl Catalogue {
    /// The English catalogue (for tests and the LTI tool's own pages).
    pub fn english() -> Catalogue {
        load("en", None)
            .ok()
            .and_then(|l| l.catalogue)
            .expect("English ships")
    }

    /// Every key, sorted.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries.keys().map(String::as_str)
    }

    pub fn has(&self, key: &str) -> bool {
        self.entries.contains_key(key)
    }

    /// The CLDR plural category of `n` in this language.
    pub fn category(&self, n: u64) -> &'static str {
        // Built when asked (compiled data, no I/O): the rules are not
        // `Sync`, and a course is rendered on several threads.
        match plural_rules(&self.language).category_for(n) {
            PluralCategory::Zero => "zero",
            PluralCategory::One => "one",
            PluralCategory::Two => "two",
            PluralCategory::Few => "few",
            PluralCategory::Many => "many",
            PluralCategory::Other => "other",
        }
    }

    /// The text of `key`, its plural form for `count` when it has forms,
    /// with `{name}` replaced by `params` and `{n}` by the count. `None`
    /// when the key does not exist.
    pub fn text(&self, key: &str, count: Option<u64>, params: &[(&str, &str)]) -> Option<String> {
        let raw = match self.entries.get(key)? {
            Entry::Text(t) => t.as_str(),
            Entry::Plural(forms) => {
                let cat = self.category(count.unwrap_or(0));
                forms
                    .get(cat)
                    .or_else(|| forms.get("other"))
                    .map(String::as_str)
                    .unwrap_or("")
            }
        };
        let n = count.map(|c| c.to_string());
        let mut out = raw.to_string();
        if let Some(n) = &n {
            out = out.replace("{n}", n);
        }
        for (name, value) in params {
            out = out.replace(&format!("{{{name}}}"), value);
        }
        Some(out)
    }

    /// [`Catalogue::text`] as HTML: the catalogue's text with `&`, `<`,
    /// `>` and `"` escaped (so it fits in text and attributes), and
    /// `params` put in as given (the caller escapes them).
    pub fn html(&self, key: &str, count: Option<u64>, params: &[(&str, &str)]) -> Option<String> {
        let raw = self.text(key, count, &[])?;
        let mut out = String::with_capacity(raw.len());
        for c in raw.chars() {
            match c {
                '&' => out.push_str("&amp;"),
                '<' => out.push_str("&lt;"),
                '>' => out.push_str("&gt;"),
                '"' => out.push_str("&quot;"),
                c => out.push(c),
            }
        }
        for (name, value) in params {
            out = out.replace(&format!("{{{name}}}"), value);
        }
        Some(out)
    }

    /// Like [`Catalogue::text`] for keys the pipeline itself uses (always present).
    pub fn get(&self, key: &str, count: Option<u64>, params: &[(&str, &str)]) -> String {
        self.text(key, count, params)
            .unwrap_or_else(|| panic!("the catalogue key `{key}` exists"))
    }

    /// The entries whose keys start with `prefix`, for the page's runtime
    /// (as a JSON object: key without prefix -> text or plural forms).
    pub fn section(&self, prefix: &str) -> BTreeMap<&str, &Entry> {
        self.entries
            .iter()
            .filter_map(|(k, v)| k.strip_prefix(prefix).map(|k| (k, v)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cat(lang: &str) -> Catalogue {
        load(lang, None).unwrap().catalogue.unwrap()
    }

    #[test]
    fn every_shipped_catalogue_has_every_english_key_and_its_forms() {
        let english = shipped("en").unwrap();
        for (tag, _) in SHIPPED {
            let c = cat(tag);
            let own = shipped(tag).unwrap();
            for (key, entry) in &english {
                let theirs = own
                    .get(key)
                    .unwrap_or_else(|| panic!("{tag} lacks `{key}`"));
                match (entry, theirs) {
                    (Entry::Text(_), Entry::Text(_)) => {}
                    (Entry::Plural(_), Entry::Plural(forms)) => {
                        // Every category the language uses has its form.
                        for n in 0..200 {
                            let category = c.category(n);
                            assert!(
                                forms.contains_key(category),
                                "{tag} `{key}` lacks the `{category}` form (n = {n})"
                            );
                        }
                    }
                    _ => panic!("{tag} `{key}` is not the same kind of entry as in English"),
                }
            }
            for key in own.keys() {
                assert!(
                    english.contains_key(key),
                    "{tag} has `{key}`, English does not"
                );
            }
        }
    }

    #[test]
    fn region_and_script_fall_back_to_the_language() {
        assert_eq!(fallbacks("cy-GB"), ["cy-GB", "cy"]);
        assert_eq!(
            fallbacks("sr-Latn-RS"),
            ["sr-Latn-RS", "sr-Latn", "sr-RS", "sr"]
        );
        let c = cat("cy-GB");
        assert_eq!(c.chosen, "cy");
        assert_eq!(c.language, "cy-GB");
        assert_eq!(cat("en-US").chosen, "en");
        assert_eq!(cat("de-AT").chosen, "de");
    }

    #[test]
    fn welsh_plurals_use_all_six_forms() {
        let c = cat("cy");
        let forms: Vec<&str> = [0, 1, 2, 3, 6, 10].iter().map(|&n| c.category(n)).collect();
        assert_eq!(forms, ["zero", "one", "two", "few", "many", "other"]);
        let steps: Vec<String> = [0, 1, 2, 3, 6, 10]
            .iter()
            .map(|&n| c.get("session.to_complete", Some(n), &[]))
            .collect();
        // Six different texts, one a form.
        let mut distinct = steps.clone();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), 6, "{steps:?}");
        assert!(steps[2].starts_with("2 gam"), "{}", steps[2]);
    }

    #[test]
    fn english_plurals_and_parameters() {
        let c = cat("en");
        assert_eq!(c.get("count.steps", Some(1), &[]), "1 step");
        assert_eq!(c.get("count.steps", Some(0), &[]), "0 steps");
        assert_eq!(
            c.get("session.number", None, &[("number", "2"), ("of", "5")]),
            "Session 2 of 5"
        );
        assert_eq!(c.text("no.such.key", None, &[]), None);
    }

    #[test]
    fn a_language_without_a_catalogue_names_the_available_ones() {
        let err = load("ja", None).unwrap_err();
        assert_eq!(
            err,
            Problem::NoCatalogue {
                language: "ja".into(),
                available: vec!["cy", "de", "en", "es", "fr"]
                    .into_iter()
                    .map(String::from)
                    .collect()
            }
        );
    }

    #[test]
    fn a_course_catalogue_adds_a_language_and_overrides_entries() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("locales")).unwrap();
        std::fs::write(
            dir.path().join("locales/ar.toml"),
            "[session]\nnumber = \"الجلسة {number} من {of}\"\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("locales/fr.toml"),
            "[nav]\nnext = \"Plus loin\"\n",
        )
        .unwrap();
        let loaded = load("ar-EG", Some(dir.path())).unwrap();
        let c = loaded.catalogue.unwrap();
        assert!(c.rtl);
        assert_eq!(c.chosen, "ar");
        assert_eq!(
            c.get("session.number", None, &[("number", "1"), ("of", "2")]),
            "الجلسة 1 من 2"
        );
        // Missing entries are English, and named.
        assert_eq!(c.get("nav.previous", None, &[]), "Previous");
        assert!(loaded.missing.contains(&"nav.previous".to_string()));
        assert!(!loaded.missing.contains(&"session.number".to_string()));
        // Arabic has six plural categories too.
        assert_eq!(c.category(2), "two");

        let fr = load("fr", Some(dir.path())).unwrap();
        assert!(fr.missing.is_empty());
        let c = fr.catalogue.unwrap();
        assert_eq!(c.get("nav.next", None, &[]), "Plus loin");
        assert_eq!(c.get("nav.previous", None, &[]), "Précédent");

        let err = load("ja", Some(dir.path())).unwrap_err();
        let Problem::NoCatalogue { available, .. } = err else {
            panic!()
        };
        assert!(available.contains(&"ar".to_string()));
    }

    #[test]
    fn a_bad_course_catalogue_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("locales")).unwrap();
        std::fs::write(
            dir.path().join("locales/cy.toml"),
            "[count.steps]\nother = \"{n} cam\"\nsome = \"x\"\n",
        )
        .unwrap();
        let err = load("cy", Some(dir.path())).unwrap_err();
        assert!(
            matches!(&err, Problem::BadFile { message, .. } if message.contains("`count.steps.some` is not a plural form")),
            "{err:?}"
        );
    }

    #[test]
    fn right_to_left_from_script_or_language() {
        assert!(is_rtl("ar"));
        assert!(is_rtl("he-IL"));
        assert!(is_rtl("az-Arab"));
        assert!(!is_rtl("ku-Latn"));
        assert!(!is_rtl("cy"));
        assert!(!is_rtl("en-GB"));
    }
}
