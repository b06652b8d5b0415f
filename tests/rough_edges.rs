//! What a new user reads: the commands a message tells them to run name the real instances,
//! and `status` says where the logs really go.

mod common;

use common::Env;

#[test]
fn thaw_of_someone_elses_freeze_names_the_command_for_those_instances() {
    let env = Env::new();
    env.iris("IRIS").iris("HS").iris("OTHER");
    env.freeze_externally("IRIS");
    env.freeze_externally("HS");
    let r = env.run(&["thaw"]);
    assert_eq!(r.code, 2, "{}", r.text());
    assert!(
        r.stdout
            .contains("`iris-freeze thaw --instance HS --instance IRIS`"),
        "{}",
        r.text()
    );
    assert!(env.frozen("IRIS") && env.frozen("HS"), "left alone");
}

#[test]
fn status_names_the_log_file_the_environment_sets() {
    let env = Env::new();
    env.iris("IRIS");
    let log = env.log.display().to_string();
    let r = env.run(&["status"]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(
        r.stdout
            .contains(&format!("logs: {log} (freeze), {log} (thaw)")),
        "{}",
        r.text()
    );
    let r = env.run(&["status", "--json"]);
    let s: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(s["files"]["freeze_log"], log.as_str(), "{}", r.text());
    assert_eq!(s["files"]["thaw_log"], log.as_str(), "{}", r.text());

    // Without the variable, the defaults a hook uses.
    let mut c = env.command(std::path::Path::new(common::BIN));
    c.env_remove("IRIS_FREEZE_LOG_FILE").arg("status");
    let out = String::from_utf8(c.output().unwrap().stdout).unwrap();
    assert!(
        out.contains("logs: /etc/preScript.log (freeze), /etc/postScript.log (thaw)"),
        "{out}"
    );
}
