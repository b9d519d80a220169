//! Variants and translations, on `tests/fixtures/variants`: every variant
//! built in one run, every manifest valid against the official schemas,
//! identifiers and storage keys distinct across variants and stable across
//! rebuilds, problems in a variant's file at its line and column, and the
//! translation file's round trip through translate-toolkit (an independent
//! XLIFF and PO implementation: `xliff2po`, `po2xliff`, `pocount`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{assert_valid, attr_values, copy_dir, coursepack, root, stderr, stdout, unzip};

fn fixture() -> PathBuf {
    root().join("tests/fixtures/variants")
}

/// A copy of the fixture to change.
fn fixture_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&fixture(), dir.path());
    dir
}

fn run(args: &[&str]) -> std::process::Output {
    coursepack(&root(), args)
}

/// Builds every variant into a new folder: file name -> its files.
fn build_all(
    course: &Path,
) -> (
    tempfile::TempDir,
    BTreeMap<String, BTreeMap<String, Vec<u8>>>,
) {
    let out = tempfile::tempdir().unwrap();
    let o = run(&[
        "build",
        course.to_str().unwrap(),
        "--all-variants",
        "--target",
        "scorm12,scorm2004,cc11,cc13",
        "--out",
        out.path().to_str().unwrap(),
    ]);
    assert!(o.status.success(), "build failed: {}", stderr(&o));
    let mut packages = BTreeMap::new();
    for e in std::fs::read_dir(out.path()).unwrap() {
        let path = e.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        packages.insert(name, unzip(&path));
    }
    (out, packages)
}

#[test]
fn every_variant_builds_valid_distinct_and_stable_packages() {
    let (out, first) = build_all(&fixture());
    let names: Vec<&str> = first.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "feedback-basics-cardiff-2.1.0-cc11.imscc",
            "feedback-basics-cardiff-2.1.0-cc13.imscc",
            "feedback-basics-cardiff-2.1.0-scorm12.zip",
            "feedback-basics-cardiff-2.1.0-scorm2004.zip",
            "feedback-basics-leeds-2.1.0-cc11.imscc",
            "feedback-basics-leeds-2.1.0-cc13.imscc",
            "feedback-basics-leeds-2.1.0-scorm12.zip",
            "feedback-basics-leeds-2.1.0-scorm2004.zip",
        ]
    );
    let schema = |name: &str| match name.rsplit('-').next().unwrap() {
        "scorm12.zip" => "wrappers/scorm12.xsd",
        "scorm2004.zip" => "wrappers/scorm2004-4th.xsd",
        "cc11.imscc" => "cc11/cc11libxml2validator.xsd",
        "cc13.imscc" => "wrappers/cc13-manifest.xsd",
        other => panic!("{other}"),
    };
    // Identifiers of the SCORM manifests, and the cartridges' manifest ids,
    // by variant.
    let mut ids: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    let mut keys: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for (name, files) in &first {
        let manifest = &files["imsmanifest.xml"];
        assert_valid(manifest, schema(name), name);
        // A cartridge's other XML files valid too, every reference resolved.
        for v in crate::cc::VERSIONS {
            if name.ends_with(&format!("-{}.imscc", v.target)) {
                crate::cc::check_common(&out.path().join(name), v);
            }
        }
        let variant = if name.contains("-cardiff-") {
            "cardiff"
        } else {
            "leeds"
        };
        let text = String::from_utf8_lossy(manifest);
        for tag in ["manifest", "organization", "item", "resource"] {
            ids.entry(variant)
                .or_default()
                .extend(attr_values(manifest, tag, "identifier"));
        }
        if name.contains("scorm") {
            // The runtime's storage keys come from the pages' `course`.
            for (f, bytes) in files.iter().filter(|(f, _)| f.ends_with(".html")) {
                let page = String::from_utf8_lossy(bytes);
                if let Some(at) = page.find("\"course\":\"") {
                    let rest = &page[at + 10..];
                    keys.entry(variant)
                        .or_default()
                        .insert(rest[..rest.find('"').unwrap()].to_string());
                } else {
                    assert!(!f.ends_with("where.html"), "{name} {f} has no island");
                }
            }
        }
        // Manifests carry the variant's language.
        let lang = if variant == "cardiff" { "cy" } else { "en-GB" };
        assert!(
            text.contains(&format!(">{lang}<")),
            "{name}: LOM language {lang}"
        );
    }
    let (c, l) = (&ids["cardiff"], &ids["leeds"]);
    assert!(c.contains("MANIFEST-feedback-basics-cardiff"), "{c:?}");
    assert!(c.contains("ITEM-cardiff-where"), "{c:?}");
    assert!(l.contains("RES-leeds-local"), "{l:?}");
    assert!(
        c.contains("ITEM_cardiff_page_where"),
        "cartridge items: {c:?}"
    );
    assert!(l.contains("RES_leeds_shared"), "cartridge resources: {l:?}");
    let shared: Vec<_> = c.intersection(l).collect();
    assert!(
        shared.is_empty(),
        "identifiers shared by two variants: {shared:?}"
    );
    assert_eq!(
        keys["cardiff"],
        BTreeSet::from(["feedback-basics-cardiff".to_string()])
    );
    assert_eq!(
        keys["leeds"],
        BTreeSet::from(["feedback-basics-leeds".to_string()])
    );
    // Cardiff leaves out the session `local`; Leeds keeps it.
    let cardiff = &first["feedback-basics-cardiff-2.1.0-scorm12.zip"];
    assert!(!cardiff.contains_key("local.html"));
    assert!(first["feedback-basics-leeds-2.1.0-scorm12.zip"].contains_key("local.html"));

    // Stable across rebuilds: the same bytes.
    let (_b, second) = build_all(&fixture());
    assert!(first == second, "a rebuild changed the packages");
}

#[test]
fn a_welsh_variant_shows_the_welsh_text_and_its_own_branding() {
    let out = tempfile::tempdir().unwrap();
    let o = run(&[
        "build",
        fixture().to_str().unwrap(),
        "--variant",
        "cardiff",
        "--variant",
        "leeds",
        "--out",
        out.path().to_str().unwrap(),
        "--verbose",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    // Cardiff's own targets; Leeds, with none, gets every default one.
    let written = stdout(&o);
    assert!(
        written.contains("feedback-basics-cardiff-2.1.0-cc13.imscc"),
        "{written}"
    );
    assert!(
        !written.contains("feedback-basics-cardiff-2.1.0-cc11.imscc"),
        "{written}"
    );
    assert!(
        written.contains("feedback-basics-leeds-2.1.0-cc11.imscc"),
        "{written}"
    );
    let err = stderr(&o);
    // An untranslated unit falls back to its source, with a warning at its place.
    assert!(
        err.contains("course.toml:11:50: `course.goals.2` (course goal 2) has no cy translation in translations/cy.xlf; the source text is shown"),
        "{err}"
    );
    let files = unzip(&out.path().join("feedback-basics-cardiff-2.1.0-scorm12.zip"));
    let index = String::from_utf8_lossy(&files["index.html"]);
    let session = String::from_utf8_lossy(&files["where.html"]);
    assert!(index.contains("<html lang=\"cy\""), "{index}");
    assert!(index.contains("Hanfodion adborth"));
    assert!(
        index.contains("<strong>adborth ar-lein</strong>"),
        "Markdown kept"
    );
    assert!(
        index.contains("To reply well"),
        "the untranslated goal in English"
    );
    assert!(index.contains("Prifysgol Enghraifft Caerdydd"));
    assert!(index.contains("Dr Rhian Enghraifft"));
    assert!(!index.contains("Dr Ada Example"));
    assert!(index.contains("#9b1b30"));
    assert!(index.contains("cp-overview-start") && index.contains("cp-overview-end"));
    assert!(
        files.contains_key("media/cardiff.svg"),
        "the variant's logo"
    );
    assert!(session.contains("Mae cleifion yn postio mewn llawer o lefydd."));
    assert!(session.contains("Pa sianeli y mae eich gwasanaeth yn eu defnyddio?"));
    let leeds = unzip(&out.path().join("feedback-basics-leeds-2.1.0-scorm12.zip"));
    let index = String::from_utf8_lossy(&leeds["index.html"]);
    assert!(index.contains("<html lang=\"en-GB\""));
    assert!(index.contains("Feedback basics at Leeds Example"));
    assert!(!index.contains("Hanfodion"));
}

#[test]
fn check_checks_every_variant_and_reports_coverage() {
    let o = run(&["check", fixture().to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("variant `cardiff` (cy) is ready to build: 2 sessions"),
        "{out}"
    );
    assert!(
        out.contains("variant `leeds` (en-GB) is ready to build: 3 sessions"),
        "{out}"
    );
    assert!(
        out.contains("cy: 9 of 26 units translated, 0 stale (translations/cy.xlf)"),
        "{out}"
    );
    // The base course's own warnings are not repeated; a variant's are named.
    assert!(
        stderr(&o).contains(
            ":11:50: variant `cardiff`: `course.goals.2` (course goal 2) has no cy translation"
        ),
        "{}",
        stderr(&o)
    );
}

#[test]
fn problems_in_a_variant_are_at_its_line_and_column() {
    let dir = fixture_copy();
    std::fs::write(
        dir.path().join("variants/broken.toml"),
        "[course]\nsessions = [\"where\", \"replies\"]\nlanguage = \"Welsh language\"\n\n[branding]\ninstitutoin = \"X\"\n\n[packaging]\ntargets = [\"scorm13\"]\n",
    )
    .unwrap();
    let o = run(&["check", dir.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    let path = dir.path().join("variants/broken.toml");
    let at = |l: &str| format!("error: {}:{l}", path.display());
    // Unknown keys stop the mapping, as in course.toml: reported first.
    assert!(
        err.contains(&format!("{}: unknown key `institutoin`", at("6:1"))),
        "{err}"
    );
    assert!(err.contains("= help: did you mean `institution`?"), "{err}");
    assert!(
        err.contains("6 | institutoin = \"X\"\n  | ^^^^^^^^^^^"),
        "{err}"
    );
    std::fs::write(
        &path,
        "[course]\nsessions = [\"where\", \"replies\"]\nlanguage = \"Welsh language\"\n\n[packaging]\ntargets = [\"scorm13\"]\n",
    )
    .unwrap();
    let o = run(&["check", dir.path().to_str().unwrap()]);
    let err = stderr(&o);
    assert!(
        err.contains(&format!(
            "{}: the course has no session `replies`",
            at("2:22")
        )),
        "{err}"
    );
    assert!(err.contains("did you mean `reply`?"), "{err}");
    assert!(
        err.contains(&format!(
            "{}: `Welsh language` is not a language tag",
            at("3:12")
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!("{}: unknown target `scorm13`", at("6:12"))),
        "{err}"
    );
    assert!(
        err.contains("error: variant `broken`: 3 problems found"),
        "{err}"
    );
    // The others still check.
    assert!(stdout(&o).contains("variant `leeds` (en-GB) is ready to build"));

    // One tool serves one variant: its LTI packages are built one variant at a time.
    let o = run(&[
        "build",
        dir.path().to_str().unwrap(),
        "--variant",
        "leeds",
        "--variant",
        "cardiff",
        "--tool-url",
        "https://tool.example.org",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("error: variant `leeds`: the LTI packages (`lti`, `--cc-flavour lti`) point at the tool that serves one variant"),
        "{}",
        stderr(&o)
    );

    // A broken translation file, at its line and column, once.
    std::fs::remove_file(&path).unwrap();
    std::fs::write(
        dir.path().join("translations/cy.xlf"),
        "<xliff version=\"1.2\">\n<file><body>\n<trans-unit id=\"a\"><source>x</source></file>\n",
    )
    .unwrap();
    let o = run(&["check", dir.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    let xlf = dir.path().join("translations/cy.xlf");
    assert_eq!(
        err.matches(&format!("error: {}:3:38: ", xlf.display()))
            .count(),
        1,
        "{err}"
    );
    assert!(err.contains("the file is not well-formed XML"), "{err}");

    let o = run(&["build", dir.path().to_str().unwrap(), "--variant", "leds"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("the course has no variant `leds`"),
        "{}",
        stderr(&o)
    );
    assert!(
        stderr(&o).contains("did you mean `leeds`?"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn init_writes_a_variant_skeleton_that_checks() {
    let dir = fixture_copy();
    let o = run(&["init", dir.path().to_str().unwrap(), "--variant", "york"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let skeleton = std::fs::read_to_string(dir.path().join("variants/york.toml")).unwrap();
    assert!(skeleton.contains("# institution = "));
    let o = run(&["check", dir.path().to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("variant `york` (en-GB) is ready to build: 3 sessions"));
    let o = run(&["init", dir.path().to_str().unwrap(), "--variant", "york"]);
    assert_eq!(o.status.code(), Some(2), "refuses to overwrite");
}

fn tool(name: &str, args: &[&Path]) {
    let o = Command::new(name)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{name} runs (Debian package translate-toolkit): {e}"));
    assert!(
        o.status.success(),
        "{name} failed: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Fills every one-line msgstr of a PO file with `CY ` and its msgid.
fn fill_po(po: &str) -> String {
    let mut out = String::new();
    let mut last_id: Option<String> = None;
    for line in po.lines() {
        if let Some(id) = line
            .strip_prefix("msgid \"")
            .and_then(|l| l.strip_suffix('"'))
        {
            last_id = (!id.is_empty()).then(|| id.to_string());
        }
        match (&last_id, line) {
            (Some(id), "msgstr \"\"") => out.push_str(&format!("msgstr \"CY {id}\"\n")),
            _ => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    out
}

#[test]
fn the_translation_file_round_trips_through_translate_toolkit() {
    let dir = fixture_copy();
    let course = dir.path();
    std::fs::remove_dir_all(course.join("translations")).unwrap();
    let o = run(&["check", course.to_str().unwrap()]);
    assert!(
        stderr(&o).contains(
            "cardiff.toml:5:12: the variant is in `cy` but the course has no translations/cy.xlf"
        ),
        "{}",
        stderr(&o)
    );
    let o = run(&[
        "translate",
        "extract",
        course.to_str().unwrap(),
        "--lang",
        "cy",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("(26 units: 26 new"), "{}", stdout(&o));
    let xlf = course.join("translations/cy.xlf");
    let extracted = std::fs::read_to_string(&xlf).unwrap();
    // Ids, paths and addresses are not extracted.
    assert!(!extracted.contains("https://example.org"));
    assert!(!extracted.contains("<source>where</source>"));
    // Extracting again gives the same file.
    let o = run(&[
        "translate",
        "extract",
        course.to_str().unwrap(),
        "--lang",
        "cy",
    ]);
    assert!(o.status.success());
    assert_eq!(std::fs::read_to_string(&xlf).unwrap(), extracted);

    // Through PO and back, as a translator's tools take it.
    let work = tempfile::tempdir().unwrap();
    let po = work.path().join("cy.po");
    tool("xliff2po", &[&xlf, &po]);
    let text = std::fs::read_to_string(&po).unwrap();
    assert!(
        text.contains("#: session.where.title"),
        "the unit id as the location"
    );
    assert!(
        text.contains("#. source-hash: "),
        "the hash as a developer comment"
    );
    std::fs::write(&po, fill_po(&text)).unwrap();
    tool("po2xliff", &[&po, &xlf]);
    tool("pocount", &[&xlf]);
    let back = std::fs::read_to_string(&xlf).unwrap();
    assert!(back.contains("state=\"translated\""), "{back}");

    // Built in Welsh, the pages show the targets.
    let out = tempfile::tempdir().unwrap();
    let build = |out: &Path| {
        run(&[
            "build",
            course.to_str().unwrap(),
            "--variant",
            "cardiff",
            "--target",
            "scorm12",
            "--out",
            out.to_str().unwrap(),
        ])
    };
    let o = build(out.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let files = unzip(&out.path().join("feedback-basics-cardiff-2.1.0-scorm12.zip"));
    let page = String::from_utf8_lossy(&files["where.html"]);
    assert!(page.contains("CY Where patients post"), "{page}");
    assert!(page.contains("CY Which channels does your service use?"));
    let o = run(&["check", course.to_str().unwrap()]);
    assert!(
        stdout(&o).contains("cy: 25 of 26 units translated, 0 stale"),
        "{}",
        stdout(&o)
    );

    // The source changes: that unit is stale, and the source is shown.
    let toml = course.join("course.toml");
    let text = std::fs::read_to_string(&toml).unwrap();
    std::fs::write(
        &toml,
        text.replace("\"Where patients post\"", "\"Where patients write\""),
    )
    .unwrap();
    let o = build(out.path());
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("course.toml:30:9: the cy translation of `session.where.title` (session `where`, title) is stale"),
        "{}",
        stderr(&o)
    );
    let files = unzip(&out.path().join("feedback-basics-cardiff-2.1.0-scorm12.zip"));
    let page = String::from_utf8_lossy(&files["where.html"]);
    assert!(page.contains("Where patients write") && !page.contains("CY Where patients post"));
    let o = run(&["check", course.to_str().unwrap()]);
    assert!(
        stdout(&o).contains("cy: 24 of 26 units translated, 1 stale"),
        "{}",
        stdout(&o)
    );

    // Extracting again keeps the translations, numbered by tools or not,
    // and marks the changed one for review.
    let o = run(&[
        "translate",
        "extract",
        course.to_str().unwrap(),
        "--lang",
        "cy",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("0 new, 1 changed since translated"),
        "{}",
        stdout(&o)
    );
    let again = std::fs::read_to_string(&xlf).unwrap();
    assert!(again.contains("<trans-unit id=\"session.where.title\""));
    assert!(
        again
            .contains("<target state=\"needs-review-translation\">CY Where patients post</target>"),
        "{again}"
    );
    assert!(again.contains(
        "<target state=\"translated\">CY Which channels does your service use?</target>"
    ));
    tool("pocount", &[&xlf]);
}

#[test]
fn an_images_alt_text_and_caption_are_translated_and_a_decorative_one_is_not() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&root().join("tests/fixtures/every-block"), dir.path());
    let out = run(&[
        "translate",
        "extract",
        dir.path().to_str().unwrap(),
        "--lang",
        "cy",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let xlf = std::fs::read_to_string(dir.path().join("translations/cy.xlf")).unwrap();
    assert!(
        xlf.contains("A bar chart: replies rose from 20% to 60%"),
        "{xlf}"
    );
    assert!(xlf.contains("Replies to stories, *2019 to 2023*."), "{xlf}");
    // The decorative image's `alt = ""` is not a unit: one alt unit in all.
    assert_eq!(xlf.matches(".alt\" resname=").count(), 1, "{xlf}");
}

/// `coursepack <args…>` with `--format json`: exit code and report.
fn json_report(args: &[&str]) -> (i32, serde_json::Value) {
    let mut all = args.to_vec();
    all.extend(["--format", "json"]);
    let o = run(&all);
    let report = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", stdout(&o), stderr(&o)));
    assert_eq!(stderr(&o), "", "JSON keeps stderr empty");
    (o.status.code().unwrap(), report)
}

#[test]
fn check_format_json_reports_every_variant_and_the_coverage() {
    let (code, r) = json_report(&["check", fixture().to_str().unwrap()]);
    assert_eq!(code, 0, "{r:#}");
    assert_eq!(r["ok"], true);
    let variants = r["variants"].as_array().unwrap();
    let names: Vec<&str> = variants
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["cardiff", "leeds"]);
    assert_eq!(variants[0]["language"], "cy");
    assert_eq!(variants[0]["course"]["sessions"], 2);
    assert_eq!(variants[1]["language"], "en-GB");
    assert_eq!(variants[1]["course"]["sessions"], 3);
    assert!(variants.iter().all(|v| v["ok"] == true));
    // The Welsh variant's own warnings, not the course's.
    let cardiff = variants[0]["problems"].as_array().unwrap();
    assert!(
        cardiff.iter().any(|p| p["line"] == 11
            && p["message"].as_str().unwrap().contains(
                "variant `cardiff`: `course.goals.2` (course goal 2) has no cy translation"
            )),
        "{r:#}"
    );
    assert_eq!(variants[0]["warnings"], cardiff.len());
    let cy = &r["translations"][0];
    assert_eq!(
        (
            cy["language"].as_str(),
            cy["units"].as_u64(),
            cy["translated"].as_u64()
        ),
        (Some("cy"), Some(26), Some(9))
    );

    // A broken variant: the check fails, and says where, in its own part.
    let dir = fixture_copy();
    let broken = dir.path().join("variants/broken.toml");
    std::fs::write(&broken, "[branding]\ninstitutoin = \"X\"\n").unwrap();
    let (code, r) = json_report(&["check", dir.path().to_str().unwrap()]);
    assert_eq!(code, 2, "{r:#}");
    assert_eq!(r["ok"], false);
    assert_eq!(r["errors"], 0, "the course itself has no error");
    let v = &r["variants"][0];
    assert_eq!(
        (v["name"].as_str(), v["ok"].as_bool()),
        (Some("broken"), Some(false))
    );
    assert_eq!(v["course"], serde_json::Value::Null);
    assert_eq!(v["errors"], 1);
    let p = &v["problems"][0];
    assert_eq!(p["file"], broken.display().to_string());
    assert_eq!(
        (p["line"].as_u64(), p["column"].as_u64()),
        (Some(2), Some(1))
    );
    assert_eq!(r["variants"][1]["ok"], true);
}

#[test]
fn build_variants_with_format_json_and_lms() {
    let out = tempfile::tempdir().unwrap();
    let (code, r) = json_report(&[
        "build",
        fixture().to_str().unwrap(),
        "--all-variants",
        "--target",
        "scorm12,cc13",
        "--lms",
        "moodle",
        "--out",
        out.path().to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{r:#}");
    let mut all = Vec::new();
    for v in r["variants"].as_array().unwrap() {
        let name = v["name"].as_str().unwrap();
        assert_eq!(v["ok"], true, "{r:#}");
        let packages = v["packages"].as_array().unwrap();
        assert_eq!(packages.len(), 2, "{name}");
        for p in packages {
            let path = p["path"].as_str().unwrap();
            assert!(
                path.contains(&format!("feedback-basics-{name}-2.1.0-")),
                "{path}"
            );
            let sum = coursepack_pipeline::report::sha256_file(Path::new(path)).unwrap();
            assert_eq!(p["sha256"], sum);
            all.push(p.clone());
        }
        assert_eq!(v["totals"]["packages"], 2);
        // Moodle's word on the cartridge, for each variant.
        assert!(
            v["problems"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["code"] == "moodle/format" && p["severity"] == "warning"),
            "{r:#}"
        );
    }
    assert_eq!(r["packages"].as_array().unwrap(), &all);
    assert_eq!(r["totals"]["packages"], 4);

    // What Moodle cannot take at all stops the build: nothing is written.
    let out = tempfile::tempdir().unwrap();
    let (code, r) = json_report(&[
        "build",
        fixture().to_str().unwrap(),
        "--variant",
        "leeds",
        "--target",
        "cc13",
        "--lms",
        "moodle",
        "--out",
        out.path().to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{r:#}");
    let v = &r["variants"][0];
    assert_eq!(v["ok"], false);
    assert!(v.get("packages").is_none(), "{r:#}");
    assert!(
        v["problems"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["code"] == "moodle/format" && p["severity"] == "error"),
        "{r:#}"
    );
    assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 0);

    // The same, in words: --lms checks each variant.
    let o = run(&[
        "build",
        fixture().to_str().unwrap(),
        "--variant",
        "leeds",
        "--target",
        "cc13",
        "--lms",
        "moodle",
        "--out",
        out.path().to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("variant `leeds`: Moodle: the cc13 package"),
        "{}",
        stderr(&o)
    );
}

/// `GET path` over a fresh connection to `addr`: the status line and body.
#[cfg(feature = "serve")]
fn http_get(addr: &str, path: &str) -> std::io::Result<(String, String)> {
    use std::io::{Read as _, Write as _};
    let mut s = std::net::TcpStream::connect(addr)?;
    s.set_read_timeout(Some(std::time::Duration::from_secs(10)))?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )?;
    let mut raw = String::new();
    s.read_to_string(&mut raw)?;
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    Ok((
        head.lines().next().unwrap_or("").to_string(),
        body.to_string(),
    ))
}

/// A variant served by a tool of its own (`serve --variant`): its title and language on the
/// tool's pages; its LTI packages (one variant at a time) point at that tool and list only
/// its sessions.
#[cfg(feature = "serve")]
#[test]
fn a_variant_is_served_by_its_own_tool_and_its_lti_packages_point_there() {
    let out = tempfile::tempdir().unwrap();
    let o = run(&[
        "build",
        fixture().to_str().unwrap(),
        "--variant",
        "cardiff",
        "--target",
        "lti,cc13",
        "--cc-flavour",
        "lti",
        "--tool-url",
        "https://cardiff.example.org",
        "--out",
        out.path().to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let bundle = unzip(&out.path().join("feedback-basics-cardiff-2.1.0-lti.zip"));
    let sheet = String::from_utf8(bundle["registration.md"].clone()).unwrap();
    assert!(
        sheet.contains("`https://cardiff.example.org/launch/where`"),
        "{sheet}"
    );
    assert!(
        sheet.contains("`https://cardiff.example.org/launch/reply`"),
        "{sheet}"
    );
    assert!(
        !sheet.contains("/launch/channels"),
        "left out by the variant: {sheet}"
    );
    let cartridge = unzip(&out.path().join("feedback-basics-cardiff-2.1.0-cc13.imscc"));
    let links: String = cartridge
        .iter()
        .filter(|(p, _)| p.ends_with(".xml") && *p != "imsmanifest.xml")
        .map(|(_, b)| String::from_utf8_lossy(b).into_owned())
        .collect();
    assert!(
        links.contains("https://cardiff.example.org/launch/reply"),
        "{links}"
    );
    assert!(!links.contains("/launch/channels"), "{links}");

    // The tool, over real HTTP.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let data = tempfile::tempdir().unwrap();
    let mut tool = Command::new(env!("CARGO_BIN_EXE_coursepack"))
        .args([
            "serve",
            fixture().to_str().unwrap(),
            "--variant",
            "cardiff",
            "--listen",
            &addr,
            "--public-url",
            &format!("http://{addr}"),
            "--data",
            data.path().to_str().unwrap(),
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut home = None;
    for _ in 0..300 {
        if let Ok(got) = http_get(&addr, "/") {
            home = Some(got);
            break;
        }
        if let Some(status) = tool.try_wait().unwrap() {
            panic!("serve --variant stopped: {status}");
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let launch = http_get(&addr, "/launch/where");
    let _ = tool.kill();
    let _ = tool.wait();
    let (status, body) = home.expect("the tool answers");
    assert!(status.contains("200"), "{status}");
    assert!(body.contains("<h1>Hanfodion adborth</h1>"), "{body}");
    let (status, body) = launch.unwrap();
    assert!(status.contains("400"), "{status}");
    assert!(body.contains("<html lang=\"cy\">"), "{body}");
    assert!(body.contains("Agorwch hwn o&#39;ch cwrs"), "{body}");
}

/// `--all-variants` writes every variant's packages or none: a package of
/// the last variant that cannot be put in place leaves no earlier
/// variant's package behind, and what was in the folder untouched.
#[test]
fn all_variants_are_written_all_or_none() {
    let out = tempfile::tempdir().unwrap();
    let kept = out
        .path()
        .join("feedback-basics-cardiff-2.1.0-scorm2004.zip");
    std::fs::write(&kept, b"an earlier build").unwrap();
    // A folder where leeds' SCORM 1.2 package goes: no rename replaces it.
    let blocked = out.path().join("feedback-basics-leeds-2.1.0-scorm12.zip");
    std::fs::create_dir(&blocked).unwrap();
    let o = run(&[
        "build",
        fixture().to_str().unwrap(),
        "--all-variants",
        "--target",
        "scorm12,scorm2004",
        "--out",
        out.path().to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("feedback-basics-leeds-2.1.0-scorm12.zip"),
        "{}",
        stderr(&o)
    );
    let mut names: Vec<String> = std::fs::read_dir(out.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "feedback-basics-cardiff-2.1.0-scorm2004.zip",
            "feedback-basics-leeds-2.1.0-scorm12.zip",
        ]
    );
    assert_eq!(std::fs::read(&kept).unwrap(), b"an earlier build");
}

/// `check --lms` checks each variant's own packages: a variant whose
/// `[packaging] targets` Moodle cannot take at all fails the check, named,
/// while the course (every target) and the other variant pass.
#[test]
fn check_lms_checks_each_variant_s_own_packages() {
    let course = fixture_copy();
    let cardiff = course.path().join("variants/cardiff.toml");
    let text = std::fs::read_to_string(&cardiff).unwrap();
    let only_cc13 = text.replace(
        r#"targets = ["scorm12", "scorm2004", "cc13"]"#,
        r#"targets = ["cc13"]"#,
    );
    assert_ne!(text, only_cc13, "the fixture's cardiff targets changed");
    std::fs::write(&cardiff, only_cc13).unwrap();
    let dir = course.path().to_str().unwrap();

    let o = run(&["check", dir, "--lms", "moodle", "--quiet"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("error: variant `cardiff`: Moodle: the cc13 package"),
        "{}",
        stderr(&o)
    );
    assert!(stdout(&o).contains("variant `leeds` (en-GB) is ready to build"));

    let (code, r) = json_report(&["check", dir, "--lms", "moodle"]);
    assert_eq!(code, 2, "{r:#}");
    let variants = r["variants"].as_array().unwrap();
    let by_name = |n: &str| variants.iter().find(|v| v["name"] == n).unwrap();
    assert_eq!(by_name("cardiff")["ok"], false, "{r:#}");
    assert!(
        by_name("cardiff")["problems"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["code"] == "moodle/format" && p["severity"] == "error"),
        "{r:#}"
    );
    assert_eq!(by_name("leeds")["ok"], true, "{r:#}");

    // Without --lms, the same variant is ready to build.
    let o = run(&["check", dir, "--quiet"]);
    assert!(o.status.success(), "{}", stderr(&o));
}
