//! The `lti` target: the registration bundle for `coursepack serve`.

use crate::common::*;

#[test]
fn the_bundle_names_every_url_of_the_tool() {
    let out = tempfile::tempdir().unwrap();
    let result = coursepack(
        &root(),
        &[
            "build",
            "course",
            "--target",
            "lti",
            "--tool-url",
            "https://tool.example.edu/cp/",
            "--out",
            out.path().to_str().unwrap(),
        ],
    );
    assert!(result.status.success(), "{}", stderr(&result));
    let files = unzip(&out.path().join("care-opinion-feedback-1.0.0-lti.zip"));
    let names: Vec<&str> = files.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "canvas-developer-key.json",
            "dynamic-registration-url.txt",
            "registration.md"
        ]
    );
    let canvas: serde_json::Value =
        serde_json::from_slice(&files["canvas-developer-key.json"]).unwrap();
    assert_eq!(
        canvas["oidc_initiation_url"],
        "https://tool.example.edu/cp/lti/login"
    );
    assert_eq!(
        canvas["redirect_uris"][0],
        "https://tool.example.edu/cp/lti/launch"
    );
    assert_eq!(
        canvas["public_jwk_url"],
        "https://tool.example.edu/cp/.well-known/jwks.json"
    );
    assert_eq!(
        canvas["title"],
        "Public online feedback for healthcare improvement"
    );
    assert_eq!(
        files["dynamic-registration-url.txt"],
        b"https://tool.example.edu/cp/lti/register\n"
    );
    let sheet = String::from_utf8(files["registration.md"].clone()).unwrap();
    for session in [
        "problem-with-feedback",
        "how-online-feedback-works",
        "benefits-and-risks",
    ] {
        assert!(
            sheet.contains(&format!("https://tool.example.edu/cp/launch/{session}")),
            "{session}"
        );
    }
}

#[test]
fn the_lti_target_needs_an_https_tool_url_and_is_not_a_default_without_one() {
    let out = tempfile::tempdir().unwrap();
    let out_arg = out.path().to_str().unwrap();
    for extra in [&[][..], &["--tool-url", "http://tool.example.edu"][..]] {
        let mut args = vec!["build", "course", "--target", "lti", "--out", out_arg];
        args.extend_from_slice(extra);
        let result = coursepack(&root(), &args);
        assert_eq!(result.status.code(), Some(2), "{args:?}");
        assert!(stderr(&result).contains("tool"), "{}", stderr(&result));
        assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 0);
    }
    let result = coursepack(&root(), &["build", "course", "--out", out_arg]);
    assert!(result.status.success(), "{}", stderr(&result));
    assert!(
        !out.path()
            .join("care-opinion-feedback-1.0.0-lti.zip")
            .exists()
    );
    let result = coursepack(
        &root(),
        &[
            "build",
            "course",
            "--out",
            out_arg,
            "--tool-url",
            "https://t.example",
        ],
    );
    assert!(result.status.success(), "{}", stderr(&result));
    assert!(
        out.path()
            .join("care-opinion-feedback-1.0.0-lti.zip")
            .exists()
    );
}
