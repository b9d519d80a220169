//! The learner interface in the course's language: the shipped Welsh
//! catalogue with its plural forms, a course's own catalogue for a language
//! coursepack does not ship (right to left), and the errors.

use crate::common::*;

fn fixture(name: &str) -> std::path::PathBuf {
    root().join("tests/fixtures").join(name)
}

fn pages(course: &str) -> (std::collections::BTreeMap<String, Vec<u8>>, String) {
    let (out, output) = build(&fixture(course), "scorm2004");
    let zip = std::fs::read_dir(out.path())
        .unwrap()
        .flatten()
        .find(|e| e.file_name().to_string_lossy().ends_with("scorm2004.zip"))
        .unwrap()
        .path();
    (unzip(&zip), stderr(&output))
}

fn page(files: &std::collections::BTreeMap<String, Vec<u8>>, name: &str) -> String {
    String::from_utf8(files[name].clone()).unwrap()
}

#[test]
fn a_welsh_course_has_welsh_interface_words_and_plurals() {
    let (files, _) = pages("welsh-course");
    let first = page(&files, "sylfeini.html");
    let second = page(&files, "ymateb.html");
    let overview = page(&files, "index.html");
    assert!(first.contains("<html lang=\"cy\">"), "{first}");
    assert!(first.contains("Neidio i&#x27;r cynnwys") || first.contains("Neidio i'r cynnwys"));
    assert!(first.contains("Sesiwn 1 o 2"));
    // Two steps: "2 gam" (soft mutation after two).
    assert!(
        second.contains("2 gam i'w cwblhau yn y sesiwn hon."),
        "{second}"
    );
    assert!(first.contains("Hyd at 300 nod."));
    assert!(second.contains("Gwirio fy atebion"));
    assert!(overview.contains("Dechrau&#x27;r cwrs") || overview.contains("Dechrau'r cwrs"));
    assert!(overview.contains("2 sesiwn"));
    assert!(first.contains("Fersiwn 1.0.0 · Trwydded: CC BY 4.0"));
    // The runtime's words, in the island, with all six Welsh forms.
    assert!(first.contains(r#"<script type="application/json" id="cp-strings">{"lang":"cy","#));
    assert!(first.contains(r#""two":"{done} o {n} gam wedi'u gwneud""#));
    // The box an activity's learner ticks, and a true/false question's answers.
    let both = format!("{first}{second}");
    assert!(both.contains("Rwyf wedi gwneud hyn"), "{both}");
    assert!(both.contains(">Gwir<") || both.contains("Gwir</"), "{both}");
    for english in [
        "Session 1 of",
        "Skip to content",
        "Check my answers",
        "steps to complete",
        "I have done this",
        ">True<",
    ] {
        assert!(
            !first.contains(english) && !second.contains(english),
            "{english}"
        );
    }
}

#[test]
fn a_course_catalogue_adds_a_right_to_left_language_with_english_for_what_it_leaves_out() {
    let (files, warnings) = pages("arabic-course");
    let first = page(&files, "sylfeini.html");
    assert!(first.contains("<html lang=\"ar\" dir=\"rtl\">"), "{first}");
    assert!(first.contains("الجلسة 1 من 2"));
    assert!(first.contains("انتقل إلى المحتوى"));
    // Left out of ar.toml: English, and a warning naming the key.
    assert!(first.contains("Goals of this session") || !first.contains("goals-heading"));
    assert!(first.contains("Check my answers") || !first.contains("data-cp-submit"));
    assert!(
        warnings.contains("the interface entry `session.last` is not in locales/ar.toml"),
        "{warnings}"
    );
    assert!(
        !warnings.contains("`session.number` is not in"),
        "{warnings}"
    );
}

#[test]
fn a_language_without_a_catalogue_is_an_error_at_the_language_key() {
    let dir = seed_course_edited("language = \"en-GB\"", "language = \"ja\"");
    let out = coursepack(&root(), &["check", dir.path().to_str().unwrap()]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("there is no catalogue of interface words for the language `ja`"),
        "{err}"
    );
    assert!(err.contains("course.toml:"), "{err}");
    assert!(err.contains("`cy`, `de`, `en`, `es`, `fr`"), "{err}");
}

#[test]
fn an_unknown_interface_key_in_a_course_template_is_an_error_with_did_you_mean() {
    let dir = seed_course_edited("[course]\n", "[course]\ntemplates = \"templates\"\n");
    std::fs::create_dir(dir.path().join("templates")).unwrap();
    let layout = include_str!("../../templates/layout.hbs")
        .replace("{{t \"page.skip\"}}", "{{t \"page.skp\"}}");
    std::fs::write(dir.path().join("templates/layout.hbs"), layout).unwrap();
    let out = coursepack(&root(), &["check", dir.path().to_str().unwrap()]);
    let err = stderr(&out);
    assert!(!out.status.success(), "{err}");
    assert!(
        err.contains("the interface key `page.skp` in layout.hbs does not exist"),
        "{err}"
    );
    assert!(err.contains("did you mean `page.skip`?"), "{err}");
    assert!(err.contains("layout.hbs:"), "{err}");
}

/// The Welsh fixture with a download (a Word document of 1,234,567 bytes)
/// and a quiz without a title added to its last session, in `language`.
fn with_download_and_untitled_quiz(language: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&fixture("welsh-course"), dir.path());
    let toml = dir.path().join("course.toml");
    let text = std::fs::read_to_string(&toml).unwrap();
    let text = text.replace("language = \"cy\"", &format!("language = \"{language}\""));
    let text = format!(
        "{text}\n[[session.block]]\ntype = \"download\"\nid = \"taflen\"\ntitle = \"Taflen\"\nfile = \"media/taflen.docx\"\n\
         \n[[session.block]]\ntype = \"quiz\"\nid = \"heb-deitl\"\n\
         \n[[session.block.questions]]\nid = \"c1\"\ntype = \"true-false\"\nprompt = \"Ie?\"\nanswer = true\n"
    );
    std::fs::write(&toml, text).unwrap();
    std::fs::create_dir_all(dir.path().join("media")).unwrap();
    std::fs::write(dir.path().join("media/taflen.docx"), vec![b'x'; 1_234_567]).unwrap();
    dir
}

/// A download's sort of file and size, and the title of a quiz without one
/// (on the page, in the cartridge's manifest and in its QTI assessment), are
/// in the course's language: the units and decimal separator too.
#[test]
fn downloads_and_untitled_quizzes_speak_the_course_language() {
    for (language, kind, size, untitled) in [
        ("cy", "Dogfen Word", "1.2 MB", "Prawf gwybodaeth"),
        ("fr", "Document Word", "1,2 Mo", "Test de connaissances"),
        ("de", "Word-Dokument", "1,2 MB", "Wissenstest"),
    ] {
        let course = with_download_and_untitled_quiz(language);
        let (out, _) = build(course.path(), "scorm2004,cc13");
        let find = |ending: &str| {
            std::fs::read_dir(out.path())
                .unwrap()
                .flatten()
                .find(|e| e.file_name().to_string_lossy().ends_with(ending))
                .unwrap()
                .path()
        };
        let scorm = unzip(&find("scorm2004.zip"));
        let session = page(&scorm, "ymateb.html");
        let label = format!("<span class=\"cp-meta\">({kind}, {size})</span>");
        assert!(session.contains(&label), "{language}: {session}");
        let cartridge = unzip(&find("cc13.imscc"));
        let manifest = String::from_utf8(cartridge["imsmanifest.xml"].clone()).unwrap();
        assert!(
            manifest.contains(&format!("<title>{untitled}</title>")),
            "{language}: {manifest}"
        );
        let qti = cartridge
            .iter()
            .find(|(path, _)| path.contains("heb-deitl") && path.ends_with(".xml"))
            .map(|(_, bytes)| String::from_utf8(bytes.clone()).unwrap())
            .expect("the quiz's assessment");
        assert!(
            qti.contains(&format!("title=\"{untitled}\"")),
            "{language}: {qti}"
        );
        let statics = String::from_utf8(cartridge["ymateb.html"].clone()).unwrap_or_default();
        for english in ["Word document", "Knowledge check", " kB", "1.2 MB"] {
            if language != "cy" || english != "1.2 MB" {
                assert!(!session.contains(english), "{language}: {english}");
                assert!(!manifest.contains(english), "{language}: {english}");
                assert!(!statics.contains(english), "{language}: {english}");
            }
        }
    }
}
