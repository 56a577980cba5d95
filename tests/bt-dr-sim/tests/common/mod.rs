//! Helpers shared by the integration tests: a client trusting the sim's CA, token and API calls,
//! and a small namespace-aware XML tree.
#![allow(dead_code)]

use std::time::Duration;

use bt_dr_sim::{Sim, SimConfig};
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use reqwest::header::{CONTENT_TYPE, HeaderMap};

pub const ID: &str = "bt-dr-sim-client";
pub const SECRET: &str = "sim-secret-0123456789";

/// Default config with rate limits high enough not to interfere with ordinary tests.
pub fn cfg() -> SimConfig {
    SimConfig {
        rate_limit_per_second: 100_000,
        rate_limit_per_hour: 1_000_000,
        ..SimConfig::default()
    }
}

pub fn client(sim: &Sim) -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let ca = reqwest::Certificate::from_pem(sim.ca_pem().as_bytes()).expect("CA PEM parses");
    reqwest::Client::builder()
        .tls_certs_only([ca])
        .no_proxy()
        .timeout(Duration::from_secs(60))
        .build()
        .expect("client builds")
}

#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: String,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).expect("JSON body")
    }

    pub fn xml(&self) -> Node {
        parse_xml(&self.body)
    }
}

pub async fn into_resp(r: reqwest::Response) -> Resp {
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let body = r.text().await.expect("body");
    Resp {
        status,
        headers,
        body,
    }
}

pub async fn token_request(c: &reqwest::Client, base: &str, id: &str, secret: &str) -> Resp {
    let r = c
        .post(format!("{base}/oauth2/token"))
        .basic_auth(id, Some(secret))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials")
        .send()
        .await
        .expect("token request");
    into_resp(r).await
}

pub async fn token(c: &reqwest::Client, base: &str) -> String {
    let r = token_request(c, base, ID, SECRET).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()["access_token"]
        .as_str()
        .expect("access_token")
        .to_string()
}

pub async fn get(c: &reqwest::Client, base: &str, token: &str, path_query: &str) -> Resp {
    let r = c
        .get(format!("{base}{path_query}"))
        .bearer_auth(token)
        .send()
        .await
        .expect("request");
    into_resp(r).await
}

pub async fn command(c: &reqwest::Client, base: &str, token: &str, query: &str) -> Resp {
    get(c, base, token, &format!("/api/command?{query}")).await
}

pub async fn reporting(c: &reqwest::Client, base: &str, token: &str, query: &str) -> Resp {
    get(c, base, token, &format!("/api/reporting?{query}")).await
}

/// Element tree with resolved namespaces; text is trimmed.
#[derive(Debug, Clone, Default)]
pub struct Node {
    pub name: String,
    pub ns: Option<String>,
    pub attrs: Vec<(String, String)>,
    pub text: String,
    pub children: Vec<Node>,
}

impl Node {
    pub fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }

    pub fn all(&self, name: &str) -> Vec<&Node> {
        self.children.iter().filter(|c| c.name == name).collect()
    }

    pub fn text_of(&self, name: &str) -> Option<String> {
        self.child(name).map(|c| c.text.clone())
    }

    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

fn entity(name: &str) -> &'static str {
    match name {
        "amp" => "&",
        "lt" => "<",
        "gt" => ">",
        "quot" => "\"",
        "apos" => "'",
        _ => "?",
    }
}

/// Parses a whole document; panics (test failure) if it is not well-formed.
pub fn parse_xml(s: &str) -> Node {
    try_parse_xml(s).unwrap_or_else(|e| panic!("malformed XML ({e}): {s}"))
}

pub fn try_parse_xml(s: &str) -> Result<Node, String> {
    let mut reader = quick_xml::reader::NsReader::from_str(s);
    let mut stack: Vec<Node> = Vec::new();
    let mut root: Option<Node> = None;
    loop {
        let (ns, ev) = reader.read_resolved_event().map_err(|e| e.to_string())?;
        let ns = match ns {
            ResolveResult::Bound(n) => Some(n.as_ref().to_string()),
            _ => None,
        };
        let (start, empty) = match &ev {
            Event::Start(e) => (Some(e), false),
            Event::Empty(e) => (Some(e), true),
            _ => (None, false),
        };
        if let Some(e) = start {
            let mut node = Node {
                name: e.local_name().as_ref().to_string(),
                ns,
                ..Node::default()
            };
            for a in e.attributes() {
                let a = a.map_err(|e| e.to_string())?;
                let v = a
                    .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                    .map_err(|e| e.to_string())?;
                node.attrs
                    .push((a.key.local_name().as_ref().to_string(), v.into_owned()));
            }
            stack.push(node);
            if !empty {
                continue;
            }
        }
        match ev {
            Event::Start(_) => {}
            Event::Text(t) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&t.xml10_content());
                }
            }
            Event::GeneralRef(r) => {
                let text = match r.resolve_char_ref().map_err(|e| e.to_string())? {
                    Some(c) => c.to_string(),
                    None => entity(&r.xml10_content()).to_string(),
                };
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&text);
                }
            }
            Event::End(_) | Event::Empty(_) => {
                let mut node = stack.pop().ok_or("unbalanced end tag")?;
                node.text = node.text.trim().to_string();
                match stack.last_mut() {
                    Some(parent) => parent.children.push(node),
                    None => root = Some(node),
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !stack.is_empty() {
        return Err("unclosed elements at end of document".to_string());
    }
    root.ok_or_else(|| "no root element".to_string())
}
