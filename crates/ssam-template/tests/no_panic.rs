//! Hostile input never panics the loader: thousands of deterministic mutations of real
//! templates (byte flips, truncations, spliced YAML/JSON tokens) must each produce a model
//! or diagnostics. The coverage-guided version of this is `fuzz/fuzz_targets/load.rs`.

use std::path::Path;

/// xorshift64*: deterministic, so a failure reproduces from its iteration number.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const TOKENS: &[&str] = &[
    "!Ref ",
    "!GetAtt ",
    "!Sub ",
    "!If [",
    "!Join [",
    "!Select [",
    "!Split [",
    "!FindInMap [",
    "Fn::Sub: ",
    "{\"Ref\": ",
    "${",
    "}",
    "]",
    "[",
    ":",
    "- ",
    "\n  ",
    "\t",
    "&a ",
    "*a",
    "'",
    "\"",
    "AWS::NoValue",
    "Condition: ",
    "Events:",
    "Type: S3",
    "Type: Api",
    "Globals:",
    "!!binary ",
    "---\n",
    "...\n",
    "? ",
    "|\n",
    ">\n",
    "\u{0}",
    "\u{feff}",
    "0x1F",
    "1e999",
    "~",
];

fn seeds() -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let mut out: Vec<String> = [
        "video-upload/template.yaml",
        "thumbnail/template.yaml",
        "thumbnail/template-native.yaml",
    ]
    .iter()
    .filter_map(|p| std::fs::read_to_string(root.join(p)).ok())
    .collect();
    out.push(
        "Parameters: {P: {Type: CommaDelimitedList, Default: 'a,b'}}\nConditions: {C: !Equals [!Select [0, !Ref P], a]}\n\
         Globals: {Function: {Runtime: python3.12, Handler: a.h, Environment: {Variables: {X: !If [C, 1, !Ref AWS::NoValue]}}}}\n\
         Resources:\n  F: {Type: AWS::Serverless::Function, Properties: {Events: {A: {Type: HttpApi}}}}\n"
            .to_string(),
    );
    out.push(r#"{"Resources": {"F": {"Type": "AWS::Lambda::Function", "Properties": {"Code": {"ZipFile": {"Fn::Join": ["", ["a", {"Ref": "AWS::Region"}]]}}}}}}"#.to_string());
    assert!(out.len() >= 5, "the seed examples are readable");
    out
}

fn mutate(rng: &mut Rng, text: &str) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for _ in 0..=rng.below(4) {
        if chars.is_empty() {
            break;
        }
        let at = rng.below(chars.len());
        match rng.below(5) {
            0 => {
                chars.remove(at);
            }
            1 => chars.truncate(at),
            2 => {
                let tok: Vec<char> = TOKENS[rng.below(TOKENS.len())].chars().collect();
                chars.splice(at..at, tok);
            }
            3 => {
                let end = (at + rng.below(40)).min(chars.len());
                let copy: Vec<char> = chars[at..end].to_vec();
                let to = rng.below(chars.len());
                chars.splice(to..to, copy);
            }
            _ => chars[at] = char::from_u32(rng.below(0x80) as u32).unwrap_or(' '),
        }
    }
    chars.into_iter().collect()
}

#[test]
fn mutated_templates_never_panic() {
    let seeds = seeds();
    let mut rng = Rng(0x5eed_5a11);
    let opts = ssam_template::LoadOptions {
        template: std::env::temp_dir().join("ssam-no-panic/template.yaml"),
        ..Default::default()
    };
    let mut loaded = 0;
    for i in 0..4000 {
        let seed = &seeds[i % seeds.len()];
        let text = mutate(&mut rng, seed);
        let result =
            std::panic::catch_unwind(|| ssam_template::load_from_str(&text, &opts).is_ok());
        match result {
            Ok(ok) => loaded += usize::from(ok),
            Err(_) => panic!("iteration {i} panicked on:\n{text}"),
        }
    }
    // The mutations must still exercise the later stages, not only the YAML parser.
    assert!(
        loaded > 1000,
        "only {loaded} mutated templates got past parsing"
    );
}
