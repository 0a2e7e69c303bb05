//! Hostile input against the real process: random bytes, truncated and deeply nested JSON, a body
//! shorter than its Content-Length, garbage instead of HTTP. Each HTTP request gets a 4xx, the
//! process never dies, and it stays healthy.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::support::ServerProcess;

fn random_bytes(seed: &mut u64, len: usize) -> Vec<u8> {
    (0..len)
        .map(|_| {
            *seed ^= *seed << 13;
            *seed ^= *seed >> 7;
            *seed ^= *seed << 17;
            seed.to_le_bytes()[0]
        })
        .collect()
}

#[test]
fn hostile_bodies_get_4xx_and_the_process_survives() {
    let mut server = ServerProcess::start(&["--dev", "--listen", ":0"]);
    let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
    let mut bodies: Vec<Vec<u8>> = (1..40).map(|n| random_bytes(&mut seed, n * 53)).collect();
    let valid = br#"{"application":"app","name":"p","stages":[{"refId":"1","type":"wait"}]}"#;
    for cut in 1..valid.len() {
        bodies.push(valid[..cut].to_vec());
    }
    bodies.push(format!("{}1{}", "[".repeat(200_000), "]".repeat(200_000)).into_bytes());
    bodies.push(format!("{}{}", "{\"a\":".repeat(50_000), "}".repeat(50_000)).into_bytes());
    bodies.push(vec![b'{'; 3_000_000]);

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let client = reqwest::Client::new();
        for path in [
            "/pipelines",
            "/tasks",
            "/v2/canaryConfig",
            "/pipelines/bulksave",
        ] {
            for body in &bodies {
                let response = client
                    .post(format!("{}{path}", server.url))
                    .header("content-type", "application/json")
                    .body(body.clone())
                    .send()
                    .await
                    .unwrap();
                let status = response.status().as_u16();
                assert!((400..500).contains(&status), "{path}: {status}");
                let body: serde_json::Value = response.json().await.unwrap();
                assert_eq!(body["status"], status);
            }
        }
    });

    // Raw TCP abuse: a body shorter than its Content-Length, then a hang-up; plain garbage.
    let addr = server.url.trim_start_matches("http://").to_owned();
    let mut stream = TcpStream::connect(&addr).unwrap();
    stream
        .write_all(b"POST /pipelines HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"name\":")
        .unwrap();
    drop(stream);
    let mut stream = TcpStream::connect(&addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    stream.write_all(&random_bytes(&mut seed, 4096)).unwrap();
    let mut reply = Vec::new();
    let _ = stream.read_to_end(&mut reply);

    assert!(
        server.child.try_wait().unwrap().is_none(),
        "the server died"
    );
    let health = runtime.block_on(async {
        reqwest::get(format!("{}/health", server.url))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    });
    assert_eq!(health, r#"{"status":"UP"}"#);
    let listed = runtime.block_on(async {
        reqwest::get(format!("{}/applications/app/pipelineConfigs", server.url))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    });
    assert_eq!(listed, "[]", "nothing stored");
}
