//! The deployment files against the code they deploy: what this machine can check without a container
//! engine or a cluster. The probes ask paths the bot serves, on the port it listens on; the labels select
//! the pods; the security context is Kubernetes' "restricted" profile and matches the image's user; every
//! Secret key is a variable meetnow reads; the systemd unit stops the way meetnow drains.

use crate::support::bot::RunningBot;
use serde_yaml_ng::Value;

fn yaml(path: &str) -> Value {
    let text = std::fs::read_to_string(format!("{}/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap();
    serde_yaml_ng::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn text(path: &str) -> String {
    std::fs::read_to_string(format!("{}/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// The variables `.env.example` lists: the ones meetnow reads.
fn known_variables() -> Vec<String> {
    text(".env.example")
        .lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| line.split_once('=').map(|(name, _)| name.trim().to_owned()))
        .collect()
}

#[tokio::test]
async fn the_probes_ask_what_the_bot_serves_on_the_port_it_listens_on() {
    let deployment = yaml("deploy/kubernetes/deployment.yaml");
    let container = &deployment["spec"]["template"]["spec"]["containers"][0];
    let port_named = |name: &str| {
        container["ports"].as_sequence().unwrap().iter().find(|p| p["name"] == name).unwrap()["containerPort"]
            .as_u64()
            .unwrap()
    };
    let metrics_addr = container["env"].as_sequence().unwrap().iter().find(|e| e["name"] == "METRICS_ADDR").unwrap()
        ["value"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(metrics_addr.ends_with(&format!(":{}", port_named("metrics"))), "{metrics_addr}");

    let bot = RunningBot::start(&[("METRICS_ADDR", "127.0.0.1:0")]).await;
    for probe in ["livenessProbe", "readinessProbe"] {
        assert_eq!(container[probe]["httpGet"]["port"], "metrics", "{probe}");
        let path = container[probe]["httpGet"]["path"].as_str().unwrap();
        crate::support::poll(&bot.metrics_url(path), "200", |answer| answer.status == 200).await;
    }
    bot.stop().await.unwrap();
}

#[test]
fn the_manifests_hang_together_and_run_restricted() {
    let deployment = yaml("deploy/kubernetes/deployment.yaml");
    let spec = &deployment["spec"];
    assert_eq!(spec["replicas"], 2);
    assert_eq!(spec["strategy"]["rollingUpdate"]["maxUnavailable"], 0, "an upgrade never leaves fewer than two");
    let labels = &spec["template"]["metadata"]["labels"];
    assert_eq!(&spec["selector"]["matchLabels"], labels);
    assert_eq!(&yaml("deploy/kubernetes/pdb.yaml")["spec"]["selector"]["matchLabels"], labels);
    assert_eq!(yaml("deploy/kubernetes/pdb.yaml")["spec"]["minAvailable"], 1);
    let service = yaml("deploy/kubernetes/service.yaml");
    assert_eq!(&service["spec"]["selector"], labels);

    let pod = &spec["template"]["spec"];
    let container = &pod["containers"][0];
    let ports: Vec<&str> =
        container["ports"].as_sequence().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert!(ports.contains(&service["spec"]["ports"][0]["targetPort"].as_str().unwrap()));
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    assert_eq!(pod["securityContext"]["seccompProfile"]["type"], "RuntimeDefault");
    assert_eq!(container["securityContext"]["allowPrivilegeEscalation"], false);
    assert_eq!(container["securityContext"]["readOnlyRootFilesystem"], true);
    assert_eq!(container["securityContext"]["capabilities"]["drop"][0], "ALL");
    // The shutdown grace (5 s) and the drain limit (10 s) fit in the pod's grace period.
    let stopping = meetnow::config::DEFAULT_SHUTDOWN_GRACE + meetnow::app::DRAIN_LIMIT;
    assert!(pod["terminationGracePeriodSeconds"].as_u64().unwrap() > stopping.as_secs());

    // The image's user is the one the pod runs as, and the image has no shell to start the binary with.
    let dockerfile = text("Dockerfile");
    let user = pod["securityContext"]["runAsUser"].as_u64().unwrap();
    assert!(dockerfile.contains(&format!("\nUSER {user}:{user}\n")), "Dockerfile runs as {user}");
    assert!(dockerfile.contains("FROM gcr.io/distroless/"), "no shell at run time");
    assert!(dockerfile.contains("ENTRYPOINT [\"/usr/local/bin/meetnow\"]"), "exec form: no shell needed");

    let secret = yaml("deploy/kubernetes/secret.example.yaml");
    assert_eq!(container["envFrom"][0]["secretRef"]["name"], secret["metadata"]["name"]);
    let known = known_variables();
    let env = container["env"].as_sequence().unwrap().iter().map(|e| e["name"].as_str().unwrap().to_owned());
    let keys = secret["stringData"].as_mapping().unwrap().keys().map(|k| k.as_str().unwrap().to_owned());
    for name in keys.chain(env) {
        assert!(known.contains(&name), "{name} is not a variable meetnow reads");
    }
}

#[test]
fn the_systemd_unit_stops_the_way_meetnow_drains() {
    let unit = text("deploy/meetnow.service");
    for line in
        ["KillSignal=SIGTERM", "RestartPreventExitStatus=2", "DynamicUser=yes", "ExecStart=/usr/local/bin/meetnow run"]
    {
        assert!(unit.lines().any(|l| l == line), "{line}");
    }
    let stop: u64 = unit.lines().find_map(|l| l.strip_prefix("TimeoutStopSec=")).unwrap().parse().unwrap();
    assert!(stop > (meetnow::config::DEFAULT_SHUTDOWN_GRACE + meetnow::app::DRAIN_LIMIT).as_secs());
}
