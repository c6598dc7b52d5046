//! One policy family, generated once per size and rendered in all four
//! languages, plus the requests every engine decides.
//!
//! The family keeps to what all four languages express alike: the action
//! name, the agent (principal), integer thresholds on parameters and object
//! attributes, set membership, and permit/forbid with forbid overriding.
//! [`Family::expected`] evaluates a request straight from this model, so the
//! equivalence check has an answer that no engine computed.

use std::fmt::Write as _;

/// Rules per action: with `N / RULES_PER_ACTION` actions the family has
/// exactly `N` rules.
pub const RULES_PER_ACTION: usize = 10;

/// How many agents share the pinned rules of one action. A request from one
/// of them meets one unpinned rule plus three pinned ones: a handful of
/// candidates, as in a real policy where each agent has a few rules per action.
const AGENTS_PER_ACTION: usize = 3;

pub const TIERS: [&str; 4] = ["bronze", "silver", "gold", "platinum"];
pub const REGIONS: [&str; 4] = ["na", "emea", "apac", "latam"];

/// The reason of the family's default `deny`.
pub const DEFAULT_REASON: &str = "no rule allows this action";

/// The instant every request carries: the family reads no time, but the
/// actpol envelope contract requires one.
const TIME: &str = "2026-11-25T14:00:00Z";

/// SplitMix64: tiny, deterministic on every platform, good enough to spread
/// thresholds; the same seed always gives the same family.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`); the modulo bias is irrelevant here.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next_u64() % (hi - lo) as u64) as i64
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }
}

/// An integer field a rule compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// `params.amount`, 0..10,000.
    Amount,
    /// `params.count`, 0..100.
    Count,
    /// `object.risk`, 0..10.
    Risk,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    Gt,
    Ge,
    Lt,
    Le,
}

impl Cmp {
    fn symbol(self) -> &'static str {
        match self {
            Cmp::Gt => ">",
            Cmp::Ge => ">=",
            Cmp::Lt => "<",
            Cmp::Le => "<=",
        }
    }

    pub fn holds(self, left: i64, right: i64) -> bool {
        match self {
            Cmp::Gt => left > right,
            Cmp::Ge => left >= right,
            Cmp::Lt => left < right,
            Cmp::Le => left <= right,
        }
    }
}

/// One conjunct of a rule's condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cond {
    /// `field cmp value`.
    Compare(Field, Cmp, i64),
    /// `"region" in object.regions`.
    Region(&'static str),
    /// `object.tier in [tiers]`.
    Tier(Vec<&'static str>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Allow,
    Deny,
}

#[derive(Debug, Clone)]
pub struct Rule {
    pub id: usize,
    pub action: usize,
    /// `None`: applies to every agent.
    pub agent: Option<usize>,
    pub effect: Effect,
    /// Conjuncts; never empty.
    pub conds: Vec<Cond>,
}

/// One proposed action, as every engine sees it.
#[derive(Debug, Clone)]
pub struct Request {
    pub action: usize,
    pub agent: usize,
    pub amount: i64,
    pub count: i64,
    pub risk: i64,
    pub tier: &'static str,
    pub regions: Vec<&'static str>,
    /// The envelope JSON: the one input form all engines parse.
    pub json: Vec<u8>,
}

/// How a family spreads its rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Ten rules per action, most pinned to an agent: a request meets four
    /// candidate rules at every size.
    Spread,
    /// Every rule on one action and for every agent: a request meets all of
    /// them, and about half of them hold (many hits per decision).
    OneAction,
}

impl Shape {
    pub fn name(self) -> &'static str {
        match self {
            Shape::Spread => "spread",
            Shape::OneAction => "one-action",
        }
    }

    pub fn from_name(name: &str) -> Option<Shape> {
        [Shape::Spread, Shape::OneAction]
            .into_iter()
            .find(|s| s.name() == name)
    }
}

/// The generated family at one size.
#[derive(Debug, Clone)]
pub struct Family {
    pub shape: Shape,
    pub actions: usize,
    pub agents: usize,
    pub rules: Vec<Rule>,
    pub requests: Vec<Request>,
}

pub fn action_name(action: usize) -> String {
    format!("ns{}.verb{}", action / 10, action % 10)
}

pub fn agent_name(agent: usize) -> String {
    format!("a-{agent}")
}

fn owner(agent: usize) -> String {
    format!("owner-{}@acme.example", agent % 50)
}

fn workflow(agent: usize) -> String {
    format!("wf-{agent}")
}

/// The agents whose pinned rules an action carries.
fn agents_of(action: usize, agents: usize) -> [usize; AGENTS_PER_ACTION] {
    [
        action % agents,
        (action + 1) % agents,
        (action + 2) % agents,
    ]
}

impl Family {
    /// `rules` rules (a multiple of [`RULES_PER_ACTION`]) and `requests`
    /// requests, from `seed`.
    pub fn generate(rules: usize, requests: usize, seed: u64) -> Family {
        Family::generate_shaped(Shape::Spread, rules, requests, seed)
    }

    /// A family of `shape`; see [`Shape`].
    pub fn generate_shaped(shape: Shape, rules: usize, requests: usize, seed: u64) -> Family {
        if shape == Shape::OneAction {
            return Family::one_action(rules, requests, seed);
        }
        let actions = (rules / RULES_PER_ACTION).max(1);
        let agents = (rules / RULES_PER_ACTION).max(AGENTS_PER_ACTION);
        let mut rng = Rng::new(seed ^ rules as u64);
        let mut out = Vec::with_capacity(actions * RULES_PER_ACTION);
        for action in 0..actions {
            let pinned = agents_of(action, agents);
            for j in 0..RULES_PER_ACTION {
                let id = out.len();
                let rule = if j == 0 {
                    // A guard every agent meets: the kind of global limit
                    // a real policy has per action.
                    Rule {
                        id,
                        action,
                        agent: None,
                        effect: Effect::Deny,
                        conds: vec![Cond::Compare(
                            Field::Amount,
                            Cmp::Gt,
                            rng.range(8_000, 9_800),
                        )],
                    }
                } else {
                    let agent = pinned[(j - 1) % AGENTS_PER_ACTION];
                    // Two allows and one deny per agent and action.
                    let effect = if j <= 2 * AGENTS_PER_ACTION {
                        Effect::Allow
                    } else {
                        Effect::Deny
                    };
                    Rule {
                        id,
                        action,
                        agent: Some(agent),
                        effect,
                        conds: random_conds(&mut rng, effect),
                    }
                };
                out.push(rule);
            }
        }
        Family {
            shape: Shape::Spread,
            actions,
            agents,
            rules: out,
            requests: Vec::new(),
        }
        .with_requests(&mut rng, requests)
    }

    /// `rules` unpinned rules on one action: the guard, then nine allows for
    /// each rare deny (an amount near the top of its range), so most
    /// requests are allowed by many rules at once.
    fn one_action(rules: usize, requests: usize, seed: u64) -> Family {
        let mut rng = Rng::new(seed ^ rules as u64 ^ 0x0a11);
        let out = (0..rules)
            .map(|id| {
                let (effect, conds) = match id % RULES_PER_ACTION {
                    0 => (
                        Effect::Deny,
                        vec![Cond::Compare(
                            Field::Amount,
                            Cmp::Gt,
                            rng.range(8_000, 9_800),
                        )],
                    ),
                    9 => (
                        Effect::Deny,
                        vec![Cond::Compare(
                            Field::Amount,
                            Cmp::Gt,
                            rng.range(9_500, 9_990),
                        )],
                    ),
                    _ => (Effect::Allow, random_conds(&mut rng, Effect::Allow)),
                };
                Rule {
                    id,
                    action: 0,
                    agent: None,
                    effect,
                    conds,
                }
            })
            .collect();
        Family {
            shape: Shape::OneAction,
            actions: 1,
            agents: AGENTS_PER_ACTION,
            rules: out,
            requests: Vec::new(),
        }
        .with_requests(&mut rng, requests)
    }

    fn with_requests(mut self, rng: &mut Rng, requests: usize) -> Family {
        self.requests = (0..requests).map(|i| self.random_request(rng, i)).collect();
        self
    }

    fn random_request(&self, rng: &mut Rng, index: usize) -> Request {
        let action = rng.below(self.actions);
        // Mostly an agent the action has rules for; sometimes any agent,
        // which only the unpinned guard (and the default) applies to.
        let agent = if rng.chance(80) {
            agents_of(action, self.agents)[rng.below(AGENTS_PER_ACTION)]
        } else {
            rng.below(self.agents)
        };
        let regions: Vec<&'static str> =
            REGIONS.iter().copied().filter(|_| rng.chance(40)).collect();
        let mut request = Request {
            action,
            agent,
            amount: rng.range(0, 10_000),
            count: rng.range(0, 100),
            risk: rng.range(0, 10),
            tier: TIERS[rng.below(TIERS.len())],
            regions,
            json: Vec::new(),
        };
        request.json = envelope_json(&request, index).into_bytes();
        request
    }

    /// The answer by definition: allowed when some permit holds and no
    /// forbid does.
    pub fn expected(&self, request: &Request) -> bool {
        let mut allowed = false;
        for rule in &self.rules {
            if rule.action != request.action
                || rule.agent.is_some_and(|a| a != request.agent)
                || !rule.conds.iter().all(|c| cond_holds(c, request))
            {
                continue;
            }
            match rule.effect {
                Effect::Deny => return false,
                Effect::Allow => allowed = true,
            }
        }
        allowed
    }
}

fn random_conds(rng: &mut Rng, effect: Effect) -> Vec<Cond> {
    let count = 1 + rng.below(2);
    (0..count)
        .map(|_| match rng.below(5) {
            // Allows bound a value from above, denies from below, as real
            // limits do; the thresholds keep both outcomes common.
            0 => match effect {
                Effect::Allow => Cond::Compare(Field::Amount, Cmp::Le, rng.range(2_000, 8_000)),
                Effect::Deny => Cond::Compare(Field::Amount, Cmp::Gt, rng.range(3_000, 9_000)),
            },
            1 => match effect {
                Effect::Allow => Cond::Compare(Field::Count, Cmp::Lt, rng.range(30, 90)),
                Effect::Deny => Cond::Compare(Field::Count, Cmp::Ge, rng.range(40, 95)),
            },
            2 => match effect {
                Effect::Allow => Cond::Compare(Field::Risk, Cmp::Lt, rng.range(4, 10)),
                Effect::Deny => Cond::Compare(Field::Risk, Cmp::Ge, rng.range(5, 10)),
            },
            3 => Cond::Region(REGIONS[rng.below(REGIONS.len())]),
            _ => {
                let first = rng.below(TIERS.len());
                let second = (first + 1 + rng.below(TIERS.len() - 1)) % TIERS.len();
                Cond::Tier(vec![TIERS[first.min(second)], TIERS[first.max(second)]])
            }
        })
        .collect()
}

fn cond_holds(cond: &Cond, r: &Request) -> bool {
    match cond {
        Cond::Compare(field, cmp, value) => {
            let left = match field {
                Field::Amount => r.amount,
                Field::Count => r.count,
                Field::Risk => r.risk,
            };
            cmp.holds(left, *value)
        }
        Cond::Region(region) => r.regions.contains(region),
        Cond::Tier(tiers) => tiers.contains(&r.tier),
    }
}

fn json_str_list(items: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| format!("\"{s}\"")).collect();
    format!("[{}]", quoted.join(", "))
}

/// The envelope (docs/language.md, "The envelope"), with an intent as a typical agent
/// sends one; every engine parses all of it.
fn envelope_json(r: &Request, index: usize) -> String {
    let regions = r
        .regions
        .iter()
        .map(|s| format!("\"{s}\""))
        .collect::<Vec<_>>()
        .join(",");
    format!(
        concat!(
            r#"{{"id":"req-{index}","#,
            r#""agent":{{"id":"{agent}","owner":"{owner}","workflow":"{workflow}"}},"#,
            r#""action":{{"name":"{action}","params":{{"amount":{amount},"count":{count}}}}},"#,
            r#""object":{{"type":"Record","id":"rec-{index}","attrs":{{"tier":"{tier}","regions":[{regions}],"risk":{risk}}}}},"#,
            r#""intent":{{"goal":"settle the open balance","confidence":0.92}},"#,
            r#""time":"{time}"}}"#
        ),
        index = index,
        agent = agent_name(r.agent),
        owner = owner(r.agent),
        workflow = workflow(r.agent),
        action = action_name(r.action),
        amount = r.amount,
        count = r.count,
        tier = r.tier,
        regions = regions,
        risk = r.risk,
        time = TIME,
    )
}

// ------------------------------------------------------------ renderings --

/// The family in actpol: one file with the schema, the agents and the rules.
pub fn actpol_source(f: &Family) -> String {
    let mut s = String::with_capacity(f.rules.len() * 120 + f.actions * 150);
    s.push_str(&format!(
        "policy bench {{\n  default deny \"{DEFAULT_REASON}\"\n}}\n\n"
    ));
    s.push_str("system ops \"the system every benchmark action touches\"\n\n");
    s.push_str(
        "entity Record {\n  tier: String\n  regions: Set<String>\n  risk: Int\n  system ops\n}\n\n",
    );
    for a in 0..f.actions {
        let _ = writeln!(
            s,
            "action {} {{\n  system ops\n  object Record\n  params {{\n    amount: Int\n    count: Int\n  }}\n  reversible\n}}\n",
            action_name(a)
        );
    }
    for g in 0..f.agents {
        let _ = writeln!(
            s,
            "agent {} {{\n  owner \"{}\"\n  workflow {}\n}}\n",
            agent_name(g),
            owner(g),
            workflow(g)
        );
    }
    for r in &f.rules {
        s.push_str(&actpol_rule(r));
        s.push('\n');
    }
    s
}

pub fn actpol_rule(r: &Rule) -> String {
    let agent = r
        .agent
        .map_or(String::new(), |g| format!(" for agent {}", agent_name(g)));
    let conds: Vec<String> = r
        .conds
        .iter()
        .map(|c| match c {
            Cond::Compare(field, cmp, v) => {
                let path = match field {
                    Field::Amount => "params.amount",
                    Field::Count => "params.count",
                    Field::Risk => "object.risk",
                };
                format!("{path} {} {v}", cmp.symbol())
            }
            Cond::Region(region) => format!("\"{region}\" in object.regions"),
            Cond::Tier(tiers) => format!("object.tier in {}", json_str_list(tiers)),
        })
        .collect();
    let outcome = match r.effect {
        Effect::Allow => format!("allow \"r{}\"", r.id),
        Effect::Deny => format!("deny \"r{}\"", r.id),
    };
    format!(
        "rule r{} on {}{agent} {{\n  when {}\n  {outcome}\n}}\n",
        r.id,
        action_name(r.action),
        conds.join(" and ")
    )
}

/// The family in Cedar: the agent is the principal, parameters are the
/// context, the object is the resource entity.
pub fn cedar_source(f: &Family) -> String {
    let mut s = String::with_capacity(f.rules.len() * 160);
    for r in &f.rules {
        s.push_str(&cedar_rule(r));
        s.push('\n');
    }
    s
}

pub fn cedar_rule(r: &Rule) -> String {
    let effect = match r.effect {
        Effect::Allow => "permit",
        Effect::Deny => "forbid",
    };
    let principal = r.agent.map_or("principal".to_string(), |g| {
        format!("principal == Agent::\"{}\"", agent_name(g))
    });
    let conds: Vec<String> = r
        .conds
        .iter()
        .map(|c| match c {
            Cond::Compare(field, cmp, v) => {
                let path = match field {
                    Field::Amount => "context.amount",
                    Field::Count => "context.count",
                    Field::Risk => "resource.risk",
                };
                format!("{path} {} {v}", cmp.symbol())
            }
            Cond::Region(region) => format!("resource.regions.contains(\"{region}\")"),
            Cond::Tier(tiers) => format!("{}.contains(resource.tier)", json_str_list(tiers)),
        })
        .collect();
    format!(
        "@id(\"r{}\")\n{effect} (\n  {principal},\n  action == Action::\"{}\",\n  resource\n) when {{\n  {}\n}};\n",
        r.id,
        action_name(r.action),
        conds.join(" &&\n  ")
    )
}

/// The file that combines the verdicts of the action packages: forbid
/// overrides permit, default deny. The action's package is found by a
/// lookup on the action name, so only that package's rules run where the
/// engine evaluates lazily.
const REGO_MAIN: &str = r#"package actpol.bench

import rego.v1

default allow := false

allow if {
	rules := data.actpol.actions[input.action.name]
	not rules.denied
	rules.permitted
}
"#;

/// The family in Rego (v1), one package per action: a module named
/// `actions["ns0.verb1"]` holds that action's rules, each a partial-set rule
/// whose body tests the agent (when pinned) and the condition.
pub fn rego_packages(f: &Family) -> Vec<(String, String)> {
    let mut by_action: Vec<Vec<&Rule>> = vec![Vec::new(); f.actions];
    for r in &f.rules {
        by_action[r.action].push(r);
    }
    let mut files = vec![("bench.rego".to_string(), REGO_MAIN.to_string())];
    for (action, rules) in by_action.iter().enumerate() {
        let mut s = format!(
            "package actpol.actions[\"{}\"]\n\nimport rego.v1\n\ndenied if count(forbid) > 0\n\npermitted if count(permit) > 0\n",
            action_name(action)
        );
        for r in rules {
            s.push('\n');
            s.push_str(&rego_rule(r, false));
        }
        files.push((format!("actions/{}.rego", action_name(action)), s));
    }
    files
}

/// Rules per module of the flat encoding: regorus refuses a policy file
/// over 1 MiB, and OPA users split large packages over files anyway.
const REGO_RULES_PER_FILE: usize = 1_000;

/// The family in Rego (v1) as one flat package: every rule tests the action
/// and the agent in its body, as a small OPA policy is written (OPA's rule
/// indexer keys on such equalities; regorus's interpreter does not index).
/// The package spans several files of at most [`REGO_RULES_PER_FILE`] rules.
pub fn rego_flat(f: &Family) -> Vec<(String, String)> {
    let mut files = vec![(
        "bench.rego".to_string(),
        "package actpol.bench\n\nimport rego.v1\n\ndefault allow := false\n\nallow if {\n\tnot denied\n\tcount(permit) > 0\n}\n\ndenied if count(forbid) > 0\n".to_string(),
    )];
    for (i, chunk) in f.rules.chunks(REGO_RULES_PER_FILE).enumerate() {
        let mut s = String::from("package actpol.bench\n\nimport rego.v1\n");
        for r in chunk {
            s.push('\n');
            s.push_str(&rego_rule(r, true));
        }
        files.push((format!("rules-{i}.rego"), s));
    }
    files
}

/// One rule: `permit`/`forbid contains "r<id>" if { … }`, the action test
/// only when the module is not the action's own package.
pub fn rego_rule(r: &Rule, with_action: bool) -> String {
    let head = match r.effect {
        Effect::Allow => "permit",
        Effect::Deny => "forbid",
    };
    let mut lines = Vec::new();
    if with_action {
        lines.push(format!(
            "input.action.name == \"{}\"",
            action_name(r.action)
        ));
    }
    if let Some(g) = r.agent {
        lines.push(format!("input.agent.id == \"{}\"", agent_name(g)));
    }
    for c in &r.conds {
        lines.push(match c {
            Cond::Compare(field, cmp, v) => {
                let path = match field {
                    Field::Amount => "input.action.params.amount",
                    Field::Count => "input.action.params.count",
                    Field::Risk => "input.object.attrs.risk",
                };
                format!("{path} {} {v}", cmp.symbol())
            }
            Cond::Region(region) => format!("\"{region}\" in input.object.attrs.regions"),
            Cond::Tier(tiers) => {
                let quoted: Vec<String> = tiers.iter().map(|t| format!("\"{t}\"")).collect();
                format!("input.object.attrs.tier in {{{}}}", quoted.join(", "))
            }
        });
    }
    format!(
        "{head} contains \"r{}\" if {{\n\t{}\n}}\n",
        r.id,
        lines.join("\n\t")
    )
}

/// The condition of one rule in CEL, over the variables `params` and
/// `object` (the object's attributes).
pub fn cel_condition(r: &Rule) -> String {
    let conds: Vec<String> = r
        .conds
        .iter()
        .map(|c| match c {
            Cond::Compare(field, cmp, v) => {
                let path = match field {
                    Field::Amount => "params.amount",
                    Field::Count => "params.count",
                    Field::Risk => "object.risk",
                };
                format!("{path} {} {v}", cmp.symbol())
            }
            Cond::Region(region) => format!("\"{region}\" in object.regions"),
            Cond::Tier(tiers) => format!("object.tier in {}", json_str_list(tiers)),
        })
        .collect();
    conds.join(" && ")
}

/// One rule as a whole CEL program: its scope (action, agent) and its
/// condition, since CEL has no policy set to carry the scope.
pub fn cel_program(r: &Rule) -> String {
    let agent = r.agent.map_or(String::new(), |g| {
        format!(" && agent == \"{}\"", agent_name(g))
    });
    format!(
        "action == \"{}\"{agent} && {}",
        action_name(r.action),
        cel_condition(r)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_family() {
        let a = Family::generate(100, 20, 7);
        let b = Family::generate(100, 20, 7);
        assert_eq!(actpol_source(&a), actpol_source(&b));
        let jsons = |f: &Family| {
            f.requests
                .iter()
                .map(|r| r.json.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(jsons(&a), jsons(&b));
    }

    #[test]
    fn sizes_spread_rules_over_actions_and_agents() {
        let f = Family::generate(1_000, 10, 1);
        assert_eq!(f.rules.len(), 1_000);
        assert_eq!(f.actions, 100);
        assert_eq!(f.agents, 100);
        // Every action carries one unpinned guard and nine pinned rules.
        assert_eq!(f.rules.iter().filter(|r| r.agent.is_none()).count(), 100);
    }

    #[test]
    fn one_action_puts_every_rule_on_one_action_and_many_hold() {
        let f = Family::generate_shaped(Shape::OneAction, 100, 50, 1);
        assert_eq!(f.rules.len(), 100);
        assert!(f.rules.iter().all(|r| r.action == 0 && r.agent.is_none()));
        let allowed: Vec<&Request> = f.requests.iter().filter(|r| f.expected(r)).collect();
        assert!((10..50).contains(&allowed.len()), "{} of 50", allowed.len());
        // An allowed request is allowed by many rules at once.
        let holding = |r: &Request| {
            f.rules
                .iter()
                .filter(|rule| rule.conds.iter().all(|c| cond_holds(c, r)))
                .count()
        };
        assert!(allowed.iter().all(|r| holding(r) >= 10));
    }

    #[test]
    fn requests_are_neither_all_allowed_nor_all_denied() {
        // A benchmark where every answer is the default would time the
        // default, not the rules.
        for n in [10, 100, 1_000] {
            let f = Family::generate(n, 200, 3);
            let allowed = f.requests.iter().filter(|r| f.expected(r)).count();
            assert!(
                (20..=180).contains(&allowed),
                "N={n}: {allowed} of 200 allowed"
            );
        }
    }

    #[test]
    fn one_rule_reads_alike_in_every_language() {
        let rule = Rule {
            id: 17,
            action: 23,
            agent: Some(5),
            effect: Effect::Allow,
            conds: vec![
                Cond::Compare(Field::Amount, Cmp::Le, 500),
                Cond::Region("emea"),
                Cond::Tier(vec!["gold", "platinum"]),
            ],
        };
        assert_eq!(
            actpol_rule(&rule),
            "rule r17 on ns2.verb3 for agent a-5 {\n  when params.amount <= 500 and \"emea\" in object.regions and object.tier in [\"gold\", \"platinum\"]\n  allow \"r17\"\n}\n"
        );
        assert_eq!(
            cedar_rule(&rule),
            "@id(\"r17\")\npermit (\n  principal == Agent::\"a-5\",\n  action == Action::\"ns2.verb3\",\n  resource\n) when {\n  context.amount <= 500 &&\n  resource.regions.contains(\"emea\") &&\n  [\"gold\", \"platinum\"].contains(resource.tier)\n};\n"
        );
        assert_eq!(
            rego_rule(&rule, false),
            "permit contains \"r17\" if {\n\tinput.agent.id == \"a-5\"\n\tinput.action.params.amount <= 500\n\t\"emea\" in input.object.attrs.regions\n\tinput.object.attrs.tier in {\"gold\", \"platinum\"}\n}\n"
        );
        assert_eq!(
            cel_program(&rule),
            "action == \"ns2.verb3\" && agent == \"a-5\" && params.amount <= 500 && \"emea\" in object.regions && object.tier in [\"gold\", \"platinum\"]"
        );
    }
}
