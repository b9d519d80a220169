//! SCORM 1.2 and SCORM 2004 packages of the seed course and fixtures.

use crate::common::*;

const TARGETS: [(&str, &str, &str); 2] = [
    ("scorm12", "wrappers/scorm12.xsd", "1.2"),
    (
        "scorm2004",
        "wrappers/scorm2004-4th.xsd",
        "2004 4th Edition",
    ),
];

fn package_name(target: &str) -> String {
    format!("care-opinion-feedback-1.0.0-{target}.zip")
}

#[test]
fn seed_course_builds_valid_packages_whose_references_resolve() {
    let (out, output) = build(&seed_course(), "scorm12,scorm2004");
    for (target, schema, version) in TARGETS {
        let path = out.path().join(package_name(target));
        assert!(
            stdout(&output).contains(&format!("wrote {}", path.display())),
            "summary line for {target}: {}",
            stdout(&output)
        );
        let files = unzip(&path);
        let manifest = files
            .get("imsmanifest.xml")
            .expect("manifest at the zip root");
        assert_valid(manifest, schema, &format!("{target} imsmanifest.xml"));
        let text = String::from_utf8(manifest.clone()).unwrap();
        assert!(text.contains(&format!("<schemaversion>{version}</schemaversion>")));

        // Every file the manifest lists is in the zip, every launch file exists.
        for href in attr_values(manifest, "file", "href")
            .iter()
            .chain(&attr_values(manifest, "resource", "href"))
        {
            assert!(
                files.contains_key(href),
                "{target}: manifest lists {href}, not in the zip"
            );
        }
        // Every file in the zip is listed by some resource.
        let listed = attr_values(manifest, "file", "href");
        for name in files.keys().filter(|n| *n != "imsmanifest.xml") {
            assert!(
                listed.contains(name),
                "{target}: {name} is in the zip but no resource lists it"
            );
        }
        let items = attr_values(manifest, "item", "identifier");
        if target == "scorm12" {
            // By default SCORM 1.2 has one SCO per session, in course order, under one
            // non-launchable parent.
            assert_eq!(
                items,
                [
                    "ITEM-COURSE-care-opinion-feedback",
                    "ITEM-problem-with-feedback",
                    "ITEM-how-online-feedback-works",
                    "ITEM-benefits-and-risks"
                ]
            );
            assert_eq!(attr_values(manifest, "item", "identifierref").len(), 3);
        } else {
            // SCORM 2004 is one SCO by default: the course player, each session an objective
            // (Moodle's 2004 player records only the first of several SCOs per visit).
            assert_eq!(items, ["ITEM-COURSE-care-opinion-feedback"]);
            assert_eq!(attr_values(manifest, "resource", "href"), ["course.html"]);
            assert_eq!(
                attr_values(manifest, "imsss:objective", "objectiveID"),
                [
                    "OBJ-problem-with-feedback",
                    "OBJ-how-online-feedback-works",
                    "OBJ-benefits-and-risks"
                ]
            );
        }
        // Every identifierref points at a resource.
        let resources = attr_values(manifest, "resource", "identifier");
        for r in attr_values(manifest, "item", "identifierref")
            .iter()
            .chain(&attr_values(manifest, "dependency", "identifierref"))
        {
            assert!(resources.contains(r), "{target}: {r} names no resource");
        }
        assert!(
            !files
                .keys()
                .any(|n| n.contains("__MACOSX") || n.contains(".DS_Store"))
        );
    }
}

#[test]
fn rebuilds_are_byte_identical() {
    let (a, _) = build(&seed_course(), "scorm12,scorm2004");
    let (b, _) = build(&seed_course(), "scorm12,scorm2004");
    for (target, _, _) in TARGETS {
        let one = std::fs::read(a.path().join(package_name(target))).unwrap();
        let two = std::fs::read(b.path().join(package_name(target))).unwrap();
        assert!(one == two, "{target} differs between two builds");
    }
}

#[test]
fn identifiers_come_from_ids_not_titles() {
    // Renaming a session keeps its identifiers; LMSs keep progress by them.
    let dir = seed_course_edited(
        "What is the problem with patient feedback?",
        "Renamed session",
    );
    let (a, _) = build(&seed_course(), "scorm2004");
    let (b, _) = build(dir.path(), "scorm2004");
    let ids = |d: &std::path::Path| {
        let files = unzip(&d.join(package_name("scorm2004")));
        let m = &files["imsmanifest.xml"];
        [
            attr_values(m, "manifest", "identifier"),
            attr_values(m, "item", "identifier"),
            attr_values(m, "resource", "identifier"),
            attr_values(m, "imsss:primaryObjective", "objectiveID"),
        ]
    };
    assert_eq!(ids(a.path()), ids(b.path()));
}

#[test]
fn session_pages_carry_the_completion_rules_and_escape_course_text() {
    let (out, _) = build(&seed_course(), "scorm12");
    let files = unzip(&out.path().join(package_name("scorm12")));
    let page = String::from_utf8(files["how-online-feedback-works.html"].clone()).unwrap();
    assert!(page.contains(r#"<html lang="en-GB">"#));
    assert!(page.contains(r#"<script src="coursepack/runtime.js"></script>"#));
    // The video and readings with no address are optional: nothing to open.
    assert!(
        page.contains(
            r#""required":["explore-care-opinion","what-people-valued","responses-differ"]"#
        ),
        "{page}"
    );
    assert!(page.contains(r#"<textarea id="input-what-people-valued" data-cp-answer"#));
    assert!(page.contains("not available in this copy of the course"));
    assert!(page.contains(r#"href="https://www.careopinion.org.uk/""#));
}

#[test]
fn local_media_is_packaged_stored_and_listed_per_sco() {
    let course = tempfile::tempdir().unwrap();
    std::fs::create_dir(course.path().join("media")).unwrap();
    std::fs::write(course.path().join("media/clip.mp4"), vec![7u8; 50_000]).unwrap();
    std::fs::write(
        course.path().join("media/clip.vtt"),
        "WEBVTT\n\n00:00.000 --> 00:01.000\nHello <b>world</b>\n",
    )
    .unwrap();
    std::fs::write(
        course.path().join("course.toml"),
        r#"
[course]
id = "media-demo"
title = "Media <demo> & co"

[[session]]
id = "watch"
title = "Watch"

[[session.block]]
type = "video"
id = "clip"
title = "A <clip>"
file = "media/clip.mp4"
captions = "media/clip.vtt"
minutes = 1

[[session.block]]
type = "text"
body = "Some <script>alert(1)</script> *text*"
"#,
    )
    .unwrap();
    let (out, output) = build(course.path(), "scorm12,scorm2004");
    // The media raise no warning; the script tag in the text does (it is
    // shown as text, which is what this course checks further down).
    let err = stderr(&output);
    let other_warnings = err
        .lines()
        .filter(|l| l.starts_with("warning") && !l.contains("raw HTML (`<script>`)"))
        .count();
    assert_eq!(other_warnings, 0, "{err}");
    for target in ["scorm12", "scorm2004"] {
        let path = out.path().join(format!("media-demo-1.0.0-{target}.zip"));
        let mut zip = zip::ZipArchive::new(std::fs::File::open(&path).unwrap()).unwrap();
        assert_eq!(
            zip.by_name("media/clip.mp4").unwrap().compression(),
            zip::CompressionMethod::Stored
        );
        assert_eq!(
            zip.by_name("watch.html").unwrap().compression(),
            zip::CompressionMethod::Deflated
        );
        let files = unzip(&path);
        let m = &files["imsmanifest.xml"];
        let listed = attr_values(m, "file", "href");
        assert!(listed.contains(&"media/clip.mp4".to_string()));
        assert!(listed.contains(&"media/clip.vtt".to_string()));
        let page = String::from_utf8(files["watch.html"].clone()).unwrap();
        assert!(page.contains(r#"<track kind="captions" src="media/clip.vtt" srclang="en""#));
        assert!(
            page.contains("&lt;script&gt;"),
            "raw HTML from course.toml is escaped"
        );
        assert!(!page.contains("<script>alert"));
        assert!(page.contains("A &lt;clip&gt;"));
    }
}

#[test]
fn split_per_session_writes_one_package_per_session() {
    let dir = seed_course_edited(r#"split = "course""#, r#"split = "session""#);
    let (out, _) = build(dir.path(), "scorm12");
    let mut names: Vec<String> = std::fs::read_dir(out.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "care-opinion-feedback-1.0.0-scorm12-benefits-and-risks.zip",
            "care-opinion-feedback-1.0.0-scorm12-how-online-feedback-works.zip",
            "care-opinion-feedback-1.0.0-scorm12-problem-with-feedback.zip",
        ]
    );
    for name in names {
        let files = unzip(&out.path().join(&name));
        assert_valid(&files["imsmanifest.xml"], "wrappers/scorm12.xsd", &name);
        assert_eq!(
            attr_values(&files["imsmanifest.xml"], "item", "identifierref").len(),
            1
        );
        assert!(!files.contains_key("index.html"));
    }
}

#[test]
fn a_session_may_share_the_course_id_and_text_ids_never_collide() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("course.toml"),
        r#"
[course]
id = "welcome"
title = "Welcome"

[[session]]
id = "welcome"
title = "Welcome"

[[session.block]]
type = "text"
body = "Hello."

[[session.block]]
type = "activity"
id = "welcome-text-1"
body = "Say hello."
required = true
"#,
    )
    .unwrap();
    let (out, _) = build(dir.path(), "scorm12,scorm2004");
    for (target, schema, _) in TARGETS {
        let files = unzip(&out.path().join(format!("welcome-1.0.0-{target}.zip")));
        assert_valid(&files["imsmanifest.xml"], schema, target);
        let page = String::from_utf8(files["welcome.html"].clone()).unwrap();
        assert_eq!(
            page.matches(r#"data-cp-block="welcome-text-1""#).count(),
            1,
            "{page}"
        );
        assert!(page.contains(r#""required":["welcome-text-1"]"#));
    }
}

#[test]
fn every_local_image_in_markdown_is_checked_and_packaged() {
    let dir = tempfile::tempdir().unwrap();
    let media = dir.path().join("media");
    std::fs::create_dir(&media).unwrap();
    for name in [
        "summary.png",
        "bio.png",
        "my fig.png",
        "transcript.png",
        "body.png",
        "clip.mp4",
    ] {
        std::fs::write(media.join(name), name).unwrap();
    }
    std::fs::write(
        media.join("transcript.md"),
        "Words, then ![a chart](media/transcript.png).\n",
    )
    .unwrap();
    let toml = r#"
[course]
id = "pictures"
title = "Pictures"
summary = "![Summary](media/summary.png)"

[[people]]
name = "A. Tutor"
bio = "![Portrait](media/bio.png)"

[[session]]
id = "look"
title = "Look"
intro = "![Figure](media/my%20fig.png)"

[[session.block]]
type = "video"
id = "clip"
file = "media/clip.mp4"
transcript = "media/transcript.md"

[[session.block]]
type = "text"
body = "![Body](media/body.png?v=2#top) and ![remote](https://example.org/x.png)"
"#;
    std::fs::write(dir.path().join("course.toml"), toml).unwrap();
    let (out, output) = build(dir.path(), "scorm12,cc13");
    assert!(!stderr(&output).contains("warning"), "{}", stderr(&output));
    let files = unzip(&out.path().join("pictures-1.0.0-scorm12.zip"));
    for name in [
        "summary.png",
        "bio.png",
        "my fig.png",
        "transcript.png",
        "body.png",
    ] {
        assert!(
            files.contains_key(&format!("media/{name}")),
            "{name} is packaged"
        );
    }
    let manifest = &files["imsmanifest.xml"];
    assert_valid(manifest, "wrappers/scorm12.xsd", "scorm12 with images");
    let listed = attr_values(manifest, "file", "href");
    assert!(
        listed.contains(&"media/my%20fig.png".to_string()),
        "{listed:?}"
    );
    assert!(
        listed.contains(&"media/transcript.png".to_string()),
        "{listed:?}"
    );
    let cc = unzip(&out.path().join("pictures-1.0.0-cc13.imscc"));
    assert!(cc.contains_key("media/my fig.png"));

    // A missing image is an error that points at the text showing it.
    std::fs::remove_file(media.join("bio.png")).unwrap();
    let result = coursepack(dir.path(), &["check", "."]);
    assert_eq!(result.status.code(), Some(2));
    let line = toml.lines().position(|l| l.starts_with("bio =")).unwrap() + 1;
    assert!(
        stderr(&result).contains(&format!(
            "./course.toml:{line}:7: file `media/bio.png` does not exist"
        )),
        "{}",
        stderr(&result)
    );
}

/// Builds the seed course with extra arguments into a new temporary folder.
fn build_with(course: &std::path::Path, args: &[&str]) -> tempfile::TempDir {
    let out = tempfile::tempdir().unwrap();
    let mut all = vec![
        "build",
        course.to_str().unwrap(),
        "--quiet",
        "--target",
        "scorm12,scorm2004",
        "--out",
        out.path().to_str().unwrap(),
    ];
    all.extend_from_slice(args);
    let output = coursepack(&root(), &all);
    assert!(output.status.success(), "build failed: {}", stderr(&output));
    out
}

#[test]
fn one_sco_per_session_or_for_the_course_from_the_command_line_or_course_toml() {
    // The launch files of a package, once its manifest passed the official schema.
    let launches = |out: &std::path::Path, target: &str| {
        let files = unzip(&out.join(package_name(target)));
        let m = &files["imsmanifest.xml"];
        let schema = if target == "scorm12" {
            "wrappers/scorm12.xsd"
        } else {
            "wrappers/scorm2004-4th.xsd"
        };
        assert_valid(m, schema, &format!("{target} imsmanifest.xml"));
        (attr_values(m, "resource", "href"), files.clone())
    };
    let sessions = [
        "problem-with-feedback.html",
        "how-online-feedback-works.html",
        "benefits-and-risks.html",
    ];
    let by_flag = build_with(&seed_course(), &["--sco", "course"]);
    for target in ["scorm12", "scorm2004"] {
        let (hrefs, files) = launches(by_flag.path(), target);
        assert_eq!(hrefs, ["course.html"], "{target} --sco course");
        let player = String::from_utf8(files["course.html"].clone()).unwrap();
        assert!(player.contains(r#"<body data-cp-page="player">"#));
        assert!(player.contains(r#""objective":"OBJ-benefits-and-risks""#));
        for s in sessions {
            assert!(files.contains_key(s), "{target}: {s} is in the one SCO");
        }
    }
    let by_flag = build_with(&seed_course(), &["--sco", "session"]);
    for target in ["scorm12", "scorm2004"] {
        let (hrefs, files) = launches(by_flag.path(), target);
        assert_eq!(hrefs, sessions, "{target} --sco session");
        assert!(!files.contains_key("course.html"));
    }
    let edited = seed_course_edited("[packaging]", "[packaging]\nsco = \"course\"");
    let by_toml = build_with(edited.path(), &[]);
    let (hrefs, _) = launches(by_toml.path(), "scorm12");
    assert_eq!(hrefs, ["course.html"], "[packaging] sco = \"course\"");
    // The command line wins over course.toml.
    let both = build_with(edited.path(), &["--sco", "session"]);
    let (hrefs, _) = launches(both.path(), "scorm12");
    assert_eq!(hrefs, sessions);
}

#[test]
fn session_pages_tell_the_runtime_which_links_are_other_scos() {
    let (out, _) = build(&seed_course(), "scorm12");
    let files = unzip(&out.path().join(package_name("scorm12")));
    let page = String::from_utf8(files["how-online-feedback-works.html"].clone()).unwrap();
    assert!(
        page.contains(r#""item":"ITEM-how-online-feedback-works""#),
        "{page}"
    );
    assert!(page.contains(
        r#""nav":{"overview":"index.html","player":"course.html","item_prefix":"ITEM-"}"#
    ));
    assert!(page.contains(r#"data-cp-nav="continue""#));
    assert!(page.contains(r#"data-cp-nav="previous""#));
    assert!(page.contains("data-cp-nav-hint hidden"));
    assert!(page.contains("data-cp-preview hidden"));
}

#[test]
fn pass_marks_reach_the_manifests_and_answer_keys_the_pages() {
    let course = root().join("tests/fixtures/quiz-course");
    let out = build_with(&course, &["--sco", "session"]);
    let zip = |target: &str| unzip(&out.path().join(format!("quiz-course-1.0.0-{target}.zip")));
    let files12 = zip("scorm12");
    let m12 = &files12["imsmanifest.xml"];
    assert_valid(m12, "wrappers/scorm12.xsd", "scorm12 imsmanifest.xml");
    assert_eq!(attr_values(m12, "item", "identifier").len(), 3);
    let text12 = String::from_utf8(m12.clone()).unwrap();
    assert!(text12.contains("<adlcp:masteryscore>75</adlcp:masteryscore>"));
    assert!(text12.contains("<adlcp:masteryscore>50</adlcp:masteryscore>"));
    let files04 = zip("scorm2004");
    let m04 = &files04["imsmanifest.xml"];
    assert_valid(
        m04,
        "wrappers/scorm2004-4th.xsd",
        "scorm2004 imsmanifest.xml",
    );
    let text04 = String::from_utf8(m04.clone()).unwrap();
    assert!(text04.contains(
        r#"<imsss:primaryObjective objectiveID="OBJ-feedback-basics" satisfiedByMeasure="true">"#
    ));
    assert!(text04.contains("<imsss:minNormalizedMeasure>0.75</imsss:minNormalizedMeasure>"));
    // The page carries what the runtime scores with, and every question.
    let page = String::from_utf8(files12["feedback-basics.html"].clone()).unwrap();
    assert!(page.contains(r#""pass_percent":75"#), "{page}");
    assert!(page.contains(r#""correct":["staff","public"]"#));
    assert!(page.contains(r#""accept":["Care Opinion","careopinion","careopinion.org.uk"]"#));
    for q in ["channel", "who-reads", "public-replies", "site-name"] {
        assert!(
            page.contains(&format!(r#"data-cp-question="{q}""#)),
            "{q} on the page"
        );
    }
    let responding = String::from_utf8(files12["responding.html"].clone()).unwrap();
    assert!(responding.contains(r#""draw":2"#) && responding.contains(r#""shuffle":true"#));
    assert!(responding.contains(r#""require_pass":true"#));
}

#[test]
fn a_long_course_lists_nearby_sessions_so_pages_grow_linearly() {
    let dir = tempfile::tempdir().unwrap();
    let mut toml = String::from("[course]\nid = \"long\"\ntitle = \"Long\"\n");
    for i in 1..=40 {
        toml.push_str(&format!(
            "\n[[session]]\nid = \"s{i}\"\ntitle = \"Session {i}\"\n\n[[session.block]]\ntype = \"reflection\"\nid = \"r{i}\"\nquestion = \"Why?\"\n"
        ));
    }
    std::fs::write(dir.path().join("course.toml"), toml).unwrap();
    let out = build_with(dir.path(), &["--sco", "session"]);
    let files = unzip(&out.path().join("long-1.0.0-scorm12.zip"));
    let page = String::from_utf8(files["s20.html"].clone()).unwrap();
    let nav = &page[page.find("cp-nav").unwrap()..page.find("</nav>").unwrap()];
    let listed: Vec<usize> = (1..=40)
        .filter(|i| nav.contains(&format!(r#"href="s{i}.html""#)))
        .collect();
    assert_eq!(listed, [1, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 40]);
    // The overview still lists them all.
    let overview = String::from_utf8(files["index.html"].clone()).unwrap();
    assert!((1..=40).all(|i| overview.contains(&format!(r#"href="s{i}.html""#))));
}

#[test]
fn files_linked_from_markdown_are_packaged_and_a_missing_one_is_an_error() {
    let course = seed_course_edited(
        "title = \"What is the problem with patient feedback?\"\n",
        "title = \"What is the problem with patient feedback?\"\nintro = \"Read the [handout](media/hand%20out.pdf) and [session 2](how-online-feedback-works.html).\"\n",
    );
    std::fs::create_dir_all(course.path().join("media")).unwrap();
    std::fs::write(
        course.path().join("media/hand out.pdf"),
        b"%PDF-1.4 handout",
    )
    .unwrap();
    let (out, output) = build(course.path(), "scorm12");
    assert!(output.status.success(), "{}", stderr(&output));
    let path = out.path().join("care-opinion-feedback-1.0.0-scorm12.zip");
    let files = unzip(&path);
    assert_eq!(files["media/hand out.pdf"], b"%PDF-1.4 handout");
    let manifest = String::from_utf8(files["imsmanifest.xml"].clone()).unwrap();
    assert!(
        manifest.contains("href=\"media/hand%20out.pdf\""),
        "{manifest}"
    );
    std::fs::remove_file(course.path().join("media/hand out.pdf")).unwrap();
    let out = coursepack(course.path(), &["check", "."]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("hand out.pdf"), "{}", stderr(&out));
}

/// The `<resource>` element with this identifier, as text.
fn resource_xml(manifest: &[u8], id: &str) -> String {
    let text = String::from_utf8(manifest.to_vec()).unwrap();
    let start = text
        .find(&format!(r#"<resource identifier="{id}""#))
        .unwrap_or_else(|| panic!("no resource {id}: {text}"));
    let end = start + text[start..].find("</resource>").unwrap();
    text[start..end].to_string()
}

#[test]
fn image_audio_and_download_blocks_are_packaged_listed_and_shown() {
    let course = root().join("tests/fixtures/every-block");
    for sco in ["session", "course"] {
        let out = build_with(&course, &["--sco", sco]);
        for (target, schema) in [
            ("scorm12", "wrappers/scorm12.xsd"),
            ("scorm2004", "wrappers/scorm2004-4th.xsd"),
        ] {
            let what = format!("{target} --sco {sco}");
            let files = unzip(&out.path().join(format!("every-block-2.0.0-{target}.zip")));
            let m = &files["imsmanifest.xml"];
            assert_valid(m, schema, &what);
            for f in ["media/talk.mp3", "media/handout.pdf", "media/fig.png"] {
                assert!(files.contains_key(f), "{what}: {f} is packaged");
            }
            // Listed with the SCO that shows them: the session's, or the course's.
            let res = match sco {
                "session" => "RES-first",
                _ => "RES-COURSE-every-block",
            };
            let listed = resource_xml(m, res);
            for f in ["media/talk.mp3", "media/handout.pdf", "media/fig.png"] {
                // Once, though fig.png is shown by the intro and by an image block.
                assert_eq!(
                    listed.matches(&format!(r#"href="{f}""#)).count(),
                    1,
                    "{what}: {f} listed once in {res}: {listed}"
                );
            }
            let page = String::from_utf8(files["first.html"].clone()).unwrap();
            assert!(page.contains(
                r#"<img src="media/fig.png" alt="A bar chart: replies rose from 20% to 60%">"#
            ));
            assert!(page.contains(
                r#"<p class="cp-caption">Replies to stories, <em>2019 to 2023</em>.</p>"#
            ));
            assert!(
                page.contains(r#"<img src="media/logo.png" alt="">"#),
                "a decorative image has an empty alt"
            );
            assert!(page.contains(
                r#"<audio controls preload="metadata" data-cp-media aria-labelledby="title-talk">"#
            ));
            assert!(page.contains(r#"<source src="media/talk.mp3" type="audio/mpeg">"#));
            assert!(page.contains("A short talk <span class=\"cp-meta\">(1 minute)</span>"));
            assert!(page.contains(r#"<a href="media/handout.pdf" download data-cp-open>Download handout.pdf</a> <span class="cp-meta">(PDF, 53 bytes)</span>"#), "{page}");
            // The audio is required (as the course says); the download is not.
            assert!(
                page.contains(
                    r#""required":["clip","hosted","talk","paper","do-it","titled-q","plain-q"]"#
                ),
                "{page}"
            );
        }
    }
}
