//! Damaged and hostile `.actpolc` bytes are refused with an error, never a
//! panic and never an artifact: every flipped byte, every truncation, an
//! appended byte, and payloads with a correct checksum whose program or
//! nesting is corrupt.

use actpol_bytecode::artifact::{Artifact, ArtifactError, FORMAT_VERSION, MAGIC};
use actpol_bytecode::verify::MAX_SET_LITERAL;
use actpol_bytecode::{Block, BlockId, Instr};
use actpol_core::decision::{ConstraintOp, Level, Requirement};
use actpol_core::error::ErrorCode;
use actpol_core::ids::*;
use actpol_core::ops::{ArithOp, CmpOp};
use actpol_core::reads::{BudgetField, EnvField, Presence};
use actpol_core::schema::*;
use actpol_core::state::WindowKind;
use actpol_core::types::{Currency, Type};
use actpol_core::value::Value;
use actpol_ir::{Consume, Expr, ExprKind, Limit, Outcome, Policy, Rule, SrcSpan, WindowRead};
use sha2::{Digest, Sha256};

/// Magic, version, reserved, payload length, checksum.
const HEADER_LEN: usize = 52;

fn e(kind: ExprKind, ty: Type) -> Expr {
    Expr {
        kind,
        ty,
        span: SrcSpan::default(),
    }
}

fn int(i: i64) -> Expr {
    e(ExprKind::Const(Value::Int(i)), Type::Int)
}

fn bin(kind: fn(Box<Expr>, Box<Expr>) -> ExprKind, a: Expr, b: Expr, ty: Type) -> Expr {
    e(kind(Box::new(a), Box::new(b)), ty)
}

fn cmp(op: CmpOp, a: Expr, b: Expr) -> Expr {
    e(ExprKind::Cmp(op, Box::new(a), Box::new(b)), Type::Bool)
}

fn field(name: NameId, ty: Type, optional: bool) -> FieldDef {
    FieldDef {
        name,
        ty,
        optional,
        bounds: None,
        zone: None,
    }
}

fn spec(level: Level, approver: Option<ApproverId>, reason: &str) -> OutcomeSpec {
    OutcomeSpec {
        level,
        approver,
        reason: Some(reason.to_string()),
        requires: Vec::new(),
    }
}

fn rule(id: usize, actions: Vec<ActionId>, when: Option<Expr>, outcome: Outcome) -> Rule {
    Rule {
        id: RuleId::from_index(id),
        actions,
        agents: None,
        workflows: None,
        when,
        outcome,
        consumes: Vec::new(),
        span: SrcSpan::default(),
    }
}

fn outcome(level: Level, approver: Option<ApproverId>, reason: Option<&str>) -> Outcome {
    Outcome {
        level,
        approver,
        reason: reason.map(str::to_string),
        limits: Vec::new(),
        requires: Vec::new(),
    }
}

/// A small policy that fills every table of a program: schema, agents
/// with a scope predicate, an approver, a budget, a window, a risk, rules
/// of every level with limits and consumes, and a raise.
fn policy() -> Policy {
    let mut s = Schema::new();
    s.systems.insert("crm".into(), Described::default());
    s.data_classes.insert(
        "pii".into(),
        Described {
            description: Some("people".into()),
        },
    );
    s.enums.insert(
        "Tier".into(),
        EnumDef {
            variants: vec!["gold".into(), "silver".into()],
            builtin: false,
        },
    );
    let tier = Type::Enum(EnumId(2));
    let strings = Type::Set(Box::new(Type::String));
    let (region, tags, level) = (
        s.intern_field("region"),
        s.intern_field("tags"),
        s.intern_field("tier"),
    );
    let (seats, due, count, incident) = (
        s.intern_field("seats"),
        s.intern_field("due"),
        s.intern_field("count"),
        s.intern_field("incident"),
    );
    s.entities.insert(
        "Account".into(),
        EntityDef {
            attrs: vec![
                field(region, Type::String, true),
                field(tags, strings.clone(), false),
                field(level, tier.clone(), false),
            ],
            data_classes: vec![DataClassId(0)],
            system: Some(SystemId(0)),
        },
    );
    let (update, revert) = (ActionId(0), ActionId(1));
    s.actions.insert(
        "crm.update".into(),
        ActionDef {
            system: SystemId(0),
            object: EntityId(0),
            params: vec![
                field(seats, Type::Int, false),
                field(due, Type::Timestamp, true),
            ],
            reversibility: ReversibilityClass::Compensable {
                by: revert,
                within: Some(900_000),
            },
            data_classes: Vec::new(),
            reads: Vec::new(),
            sends: Vec::new(),
            triggers: vec![TriggerDef::System(SystemId(0))],
        },
    );
    s.actions.insert(
        "crm.revert".into(),
        ActionDef {
            system: SystemId(0),
            object: EntityId(0),
            params: vec![field(count, Type::Int, false)],
            reversibility: ReversibilityClass::Reversible,
            data_classes: Vec::new(),
            reads: Vec::new(),
            sends: Vec::new(),
            triggers: vec![TriggerDef::Action(update)],
        },
    );
    s.context = vec![field(incident, Type::Bool, true)];

    let lead = ApproverId(0);
    let mut meta = PolicyMeta {
        name: "bytes".into(),
        agents: Default::default(),
        approvers: Default::default(),
        budgets: Default::default(),
        default: spec(Level::Deny, None, "no rule covers this"),
        on_error: spec(Level::Escalate, Some(lead), "the policy failed"),
        rules: ["cap", "incident", "big", "revert"]
            .iter()
            .map(|n| RuleMeta {
                name: n.to_string(),
                doc: Some(format!("The {n} rule.")),
                overrides: Vec::new(),
            })
            .collect(),
        raises: vec![RaiseDef {
            name: "unrecoverable".into(),
            actions: None,
            arms: vec![(
                Level::Allow,
                spec(Level::Escalate, Some(lead), "cannot undo"),
            )],
        }],
        risks: vec![RiskMeta {
            name: "size".into(),
            ty: Type::Int,
            actions: Some(vec![update]),
        }],
        timing: actpol_core::schema::Timing {
            max_skew: Some(60_000),
            reservation_ttl: None,
            approval_ttl: Some(3_600_000),
        },
    };
    meta.agents.insert(
        "growth-bot".into(),
        AgentDef {
            owner: "ana@acme.example".into(),
            workflow: "routing".into(),
            scope: Some(ScopeDef {
                systems: Some(vec![SystemId(0)]),
                objects: None,
            }),
        },
    );
    meta.agents.insert(
        "ops-bot".into(),
        AgentDef {
            owner: "ben@acme.example".into(),
            workflow: "billing-ops".into(),
            scope: None,
        },
    );
    meta.approvers.insert(
        "lead".into(),
        ApproverDef {
            title: Some("Head of Growth".into()),
            contact: None,
        },
    );
    meta.budgets.insert(
        "seats".into(),
        BudgetDef {
            ty: Type::Int,
            limit: Value::Int(100),
            window: Window::Span(86_400_000),
            key: KeyKind::Agent,
            on_exhausted: spec(Level::Escalate, Some(lead), "the seat budget is spent"),
        },
    );

    let seats_param = || e(ExprKind::Param(seats), Type::Int);
    let recent = e(
        ExprKind::Window(WindowRead {
            kind: WindowKind::Count,
            pattern: "crm.*".into(),
            param: None,
            window: Window::Span(3_600_000),
            key: KeyKind::Agent,
        }),
        Type::Int,
    );
    let mut cap = rule(
        0,
        vec![update],
        Some(bin(
            ExprKind::And,
            cmp(CmpOp::Gt, seats_param(), int(10)),
            cmp(CmpOp::Lt, recent, int(5)),
            Type::Bool,
        )),
        Outcome {
            limits: vec![
                Limit {
                    param: seats,
                    op: ConstraintOp::Le,
                    value: e(
                        ExprKind::Budget(BudgetId(0), BudgetField::Remaining),
                        Type::Int,
                    ),
                },
                Limit {
                    param: seats,
                    op: ConstraintOp::In,
                    value: e(
                        ExprKind::Const(Value::set(vec![Value::Int(1), Value::Int(2)])),
                        Type::Set(Box::new(Type::Int)),
                    ),
                },
            ],
            requires: vec![Requirement::DryRun],
            ..outcome(Level::Constrain, None, Some("capped"))
        },
    );
    cap.consumes.push(Consume {
        budget: BudgetId(0),
        amount: seats_param(),
    });
    let has_incident = e(ExprKind::Has(Presence::Context(incident)), Type::Bool);
    let incident_rule = rule(
        1,
        vec![update, revert],
        Some(bin(
            ExprKind::And,
            has_incident,
            e(ExprKind::Context(incident), Type::Bool),
            Type::Bool,
        )),
        outcome(Level::Deny, None, Some("an incident is open")),
    );
    let mut big = rule(
        2,
        vec![update],
        Some(e(
            ExprKind::If(
                Box::new(cmp(
                    CmpOp::Gt,
                    e(ExprKind::Risk(RiskId(0)), Type::Int),
                    int(100),
                )),
                Box::new(e(ExprKind::Const(Value::Bool(true)), Type::Bool)),
                Box::new(cmp(
                    CmpOp::Eq,
                    e(ExprKind::Attr(level), tier.clone()),
                    e(ExprKind::Const(Value::Enum(0)), tier),
                )),
            ),
            Type::Bool,
        )),
        outcome(Level::Escalate, Some(lead), Some("a big change")),
    );
    big.agents = Some(vec![AgentId(1)]);
    let mut revert_rule = rule(3, vec![revert], None, outcome(Level::Allow, None, None));
    revert_rule.workflows = Some(vec!["routing".into()]);

    let region_read = e(ExprKind::Attr(region), Type::String);
    let record = bin(
        ExprKind::Or,
        e(
            ExprKind::Not(Box::new(e(
                ExprKind::Has(Presence::Attr(region)),
                Type::Bool,
            ))),
            Type::Bool,
        ),
        cmp(
            CmpOp::Ne,
            region_read,
            e(ExprKind::Const(Value::str("apac")), Type::String),
        ),
        Type::Bool,
    );
    let not_reversible = e(
        ExprKind::Not(Box::new(e(ExprKind::Env(EnvField::Reversible), Type::Bool))),
        Type::Bool,
    );
    Policy {
        schema: s,
        meta,
        scopes: vec![vec![(EntityId(0), record)], Vec::new()],
        rules: vec![cap, incident_rule, big, revert_rule],
        raises: vec![not_reversible],
        risks: vec![e(
            ExprKind::Arith(ArithOp::Mul, Box::new(seats_param()), Box::new(int(2))),
            Type::Int,
        )],
        files: Vec::new(),
    }
}

fn artifact() -> Artifact {
    actpol_compiler::compile(&policy(), [7; 32]).expect("the policy compiles")
}

/// A header for `payload`, with its true length and checksum.
fn seal(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    out.extend_from_slice(&Sha256::digest(payload));
    out.extend_from_slice(payload);
    out
}

fn payload(bytes: &[u8]) -> &[u8] {
    &bytes[HEADER_LEN..]
}

#[test]
fn untouched_bytes_decode_to_the_artifact() {
    let artifact = artifact();
    let bytes = artifact.encode().expect("encodes");
    assert_eq!(Artifact::decode(&bytes), Ok(artifact));
    // `seal` writes the header as `encode` does, so the hostile payloads
    // below differ from a good artifact only where they mean to.
    assert_eq!(seal(payload(&bytes)), bytes);
}

#[test]
fn every_flipped_byte_is_refused() {
    let bytes = artifact().encode().expect("encodes");
    for at in 0..bytes.len() {
        for mask in [0xFF, 0x01] {
            let mut damaged = bytes.clone();
            damaged[at] ^= mask;
            let err = Artifact::decode(&damaged)
                .expect_err(&format!("byte {at} xor {mask:#04x} was not noticed"));
            // Each part of the header has its own check; a flip anywhere
            // after the length is a checksum mismatch. The flags' low bit
            // alone claims a signature block the bytes do not hold; any
            // other flag bit is reserved.
            let expected = match at {
                0..=7 => matches!(err, ArtifactError::Magic),
                8..=9 => matches!(err, ArtifactError::Version { .. }),
                10 if mask == 0x01 => matches!(err, ArtifactError::Length { .. }),
                10..=11 => matches!(err, ArtifactError::Reserved),
                12..=19 => matches!(err, ArtifactError::Length { .. }),
                _ => matches!(err, ArtifactError::Checksum),
            };
            assert!(expected, "byte {at} xor {mask:#04x}: {err:?}");
        }
    }
}

#[test]
fn every_truncation_is_refused() {
    let bytes = artifact().encode().expect("encodes");
    for len in 0..bytes.len() {
        let err = Artifact::decode(&bytes[..len])
            .expect_err(&format!("{len} of {} bytes decoded", bytes.len()));
        let expected = if len < HEADER_LEN {
            matches!(err, ArtifactError::Truncated { .. })
        } else {
            matches!(err, ArtifactError::Length { .. })
        };
        assert!(expected, "{len} bytes: {err:?}");
    }
}

#[test]
fn an_appended_byte_is_refused() {
    let mut bytes = artifact().encode().expect("encodes");
    for extra in [0x00, 0xFF] {
        bytes.push(extra);
        let err = Artifact::decode(&bytes).expect_err("an appended byte was not noticed");
        assert!(matches!(err, ArtifactError::Length { .. }), "{err:?}");
        bytes.pop();
    }
}

#[test]
fn payloads_that_are_no_artifact_are_refused() {
    let good = artifact().encode().expect("encodes");
    let mut left_over = payload(&good).to_vec();
    left_over.push(0);
    for (what, payload) in [
        ("an empty payload", Vec::new()),
        ("noise", vec![0xFF; 64]),
        (
            "half an artifact",
            payload(&good)[..payload(&good).len() / 2].to_vec(),
        ),
        ("an artifact and a byte more", left_over),
    ] {
        match Artifact::decode(&seal(&payload)) {
            Err(e @ (ArtifactError::Decode(_) | ArtifactError::TrailingBytes(_))) => {
                assert_eq!(e.code(), ErrorCode::ArtifactDecode, "{what}");
            }
            other => panic!("{what}: {other:?}"),
        }
    }
}

/// Appends a block of `code` to the program; the verifier checks every
/// block, referenced or not.
fn with_block(a: &mut Artifact, code: &[Instr], max_stack: u32) {
    let p = &mut a.program;
    let start = p.code.len() as u32;
    p.code.extend_from_slice(code);
    p.blocks.push(Block {
        start,
        len: code.len() as u32,
        max_stack,
    });
}

#[test]
fn corrupt_programs_with_a_valid_checksum_are_refused() {
    type Damage = Box<dyn Fn(&mut Artifact)>;
    let next = |a: &Artifact| a.program.code.len() as u32;
    let consts = |a: &Artifact| a.program.consts.len() as u32;
    // What each damage is, and what the verifier must say about it: each
    // is refused for its own reason, not for some other flaw.
    let cases: Vec<(&str, &str, Damage)> = vec![
        (
            "a jump out of its block",
            "leaves the block or goes back",
            Box::new(move |a| {
                let at = next(a);
                with_block(a, &[Instr::Const(0), Instr::Jump(at + 5), Instr::Return], 1)
            }),
        ),
        (
            "a backward jump",
            "leaves the block or goes back",
            Box::new(move |a| {
                let at = next(a);
                let code = [
                    Instr::Const(0),
                    Instr::JumpIfFalse(at),
                    Instr::Const(0),
                    Instr::Return,
                ];
                with_block(a, &code, 1)
            }),
        ),
        (
            "a constant past its table",
            "indexes past its table",
            Box::new(move |a| {
                let past = consts(a);
                with_block(a, &[Instr::Const(past), Instr::Return], 1)
            }),
        ),
        (
            "a return in the middle",
            "must be the last instruction",
            Box::new(|a| {
                let code = [
                    Instr::Const(0),
                    Instr::Return,
                    Instr::Const(0),
                    Instr::Return,
                ];
                with_block(a, &code, 1)
            }),
        ),
        (
            "a stack underflow",
            "pops an empty stack",
            Box::new(|a| with_block(a, &[Instr::Arith(ArithOp::Add), Instr::Return], 1)),
        ),
        (
            "two values left at return",
            "with 2 values",
            Box::new(|a| with_block(a, &[Instr::Const(0), Instr::Const(0), Instr::Return], 2)),
        ),
        (
            "no return at the end",
            "does not end in `Return`",
            Box::new(|a| with_block(a, &[Instr::Const(0), Instr::Const(0)], 2)),
        ),
        (
            "paths arriving with different stacks",
            "paths reach instruction",
            Box::new(move |a| {
                let at = next(a);
                let code = [
                    Instr::Const(0),
                    Instr::JumpIfFalse(at + 3),
                    Instr::Const(0),
                    Instr::Return,
                ];
                with_block(a, &code, 1)
            }),
        ),
        (
            "a stack deeper than declared",
            "claims a stack of 1 but needs 2",
            Box::new(|a| {
                let code = [
                    Instr::Const(0),
                    Instr::Const(0),
                    Instr::Cmp(CmpOp::Eq),
                    Instr::Return,
                ];
                with_block(a, &code, 1)
            }),
        ),
        (
            "an empty block",
            "lies outside the code",
            Box::new(|a| with_block(a, &[], 0)),
        ),
        (
            "a block outside the code",
            "lies outside the code",
            Box::new(|a| {
                let start = a.program.code.len() as u32;
                a.program.blocks.push(Block {
                    start,
                    len: 2,
                    max_stack: 1,
                })
            }),
        ),
        (
            "a block at the end of the address space",
            "lies outside the code",
            Box::new(|a| {
                a.program.blocks.push(Block {
                    start: u32::MAX,
                    len: u32::MAX,
                    max_stack: 1,
                })
            }),
        ),
        (
            "an oversized set literal",
            "indexes past its table",
            Box::new(|a| with_block(a, &[Instr::MakeSet(MAX_SET_LITERAL + 1), Instr::Return], 1)),
        ),
        (
            "a field name past its table",
            "indexes past its table",
            Box::new(|a| with_block(a, &[Instr::Param(NameId(9_999)), Instr::Return], 1)),
        ),
        (
            "a window past its table",
            "indexes past its table",
            Box::new(|a| with_block(a, &[Instr::Window(9_999), Instr::Return], 1)),
        ),
        (
            "a budget past its table",
            "indexes past its table",
            Box::new(|a| {
                let code = [
                    Instr::Budget(BudgetId(99), BudgetField::Limit),
                    Instr::Return,
                ];
                with_block(a, &code, 1)
            }),
        ),
        (
            "a data class past its table",
            "indexes past its table",
            Box::new(|a| with_block(a, &[Instr::Touches(DataClassId(99)), Instr::Return], 1)),
        ),
        (
            "a condition block past the table",
            "names block",
            Box::new(|a| {
                let past = BlockId(a.program.blocks.len() as u32);
                a.program.rules[0].when = Some(past);
            }),
        ),
        (
            "a rule index naming no rule",
            "names rule 99",
            Box::new(|a| a.program.index[0].any_agent.push(RuleId(99))),
        ),
        (
            "pinned agents out of order",
            "out of order",
            Box::new(|a| {
                let entry = &mut a.program.index[0];
                entry.by_agent = vec![(AgentId(1), Vec::new()), (AgentId(0), Vec::new())];
            }),
        ),
        (
            "a rule lost",
            "rules where 4 are declared",
            Box::new(|a| {
                a.program.rules.pop();
            }),
        ),
        (
            "an escalation to nobody",
            "escalates to no approver",
            Box::new(|a| {
                a.program.rules[0].level = Level::Escalate;
                a.program.rules[0].approver = None;
            }),
        ),
        (
            "an approver past its table",
            "approver 9 of 1",
            Box::new(|a| a.program.rules[2].approver = Some(ApproverId(9))),
        ),
        (
            "an on_error that allows",
            "on_error must deny or escalate",
            Box::new(|a| a.program.meta.on_error.level = Level::Allow),
        ),
        (
            "a raise that lowers a decision",
            "does not tighten a decision",
            Box::new(|a| {
                a.program.meta.raises[0].arms = vec![(Level::Deny, spec(Level::Allow, None, "no"))]
            }),
        ),
        (
            "a raise that keeps constrain without adding requirements",
            "does not tighten a decision",
            Box::new(|a| {
                a.program.meta.raises[0].arms =
                    vec![(Level::Constrain, spec(Level::Constrain, None, "same"))]
            }),
        ),
        (
            "an action on an entity past its table",
            "refers past a table",
            Box::new(|a| a.program.schema.actions[0].object = EntityId(99)),
        ),
        (
            "a type naming no enum",
            "enum 99",
            Box::new(|a| a.program.schema.context[0].ty = Type::Enum(EnumId(99))),
        ),
        (
            "a malformed currency",
            "currency code is malformed",
            Box::new(|a| a.program.schema.context[0].ty = Type::Money(Currency(*b"u$d"))),
        ),
        (
            "a scope predicate on an entity past its table",
            "scope entity",
            Box::new(|a| a.program.scopes[0][0].0 = EntityId(99)),
        ),
    ];
    for (what, reason, damage) in cases {
        let mut hostile = artifact();
        damage(&mut hostile);
        let bytes = hostile.encode().expect("encodes");
        match Artifact::decode(&bytes) {
            Err(ArtifactError::Verify(err)) if err.0.contains(reason) => {}
            other => panic!("{what}: expected a refusal saying {reason:?}, got {other:?}"),
        }
    }
}

/// Where two payloads differ, when they differ in exactly one byte.
fn one_byte_apart(a: &[u8], b: &[u8]) -> usize {
    assert_eq!(a.len(), b.len());
    let at: Vec<usize> = (0..a.len()).filter(|i| a[*i] != b[*i]).collect();
    assert_eq!(at.len(), 1, "the payloads differ at {at:?}");
    at[0]
}

/// postcard's variant indices of `Type::Int`, `Type::Set`, `Value::Set`.
const TYPE_INT: u8 = 1;
const TYPE_SET: u8 = 7;
const VALUE_SET: u8 = 9;

#[test]
fn deep_nesting_is_refused_without_exhausting_the_stack() {
    let with_type = |ty: Type| {
        let mut a = artifact();
        a.program.schema.context[0].ty = ty;
        a.encode().expect("encodes")
    };
    let nested = |depth: usize| (0..depth).fold(Type::Int, |inner, _| Type::Set(Box::new(inner)));
    // The reader's bound is 32 levels: a type of 32 decodes (and then the
    // verifier refuses a set of sets), one of 33 does not decode. The
    // message of the refusal is lost in postcard's error, so the boundary
    // is what shows the bound, rather than some other flaw, refuses it.
    match Artifact::decode(&with_type(nested(31))) {
        Err(ArtifactError::Verify(e)) => assert!(e.0.contains("cannot be in a set"), "{e}"),
        other => panic!("a set of sets 32 levels deep: {other:?}"),
    }
    match Artifact::decode(&with_type(nested(32))) {
        Err(ArtifactError::Decode(_)) => {}
        other => panic!("a type nested 33 levels deep: {other:?}"),
    }

    // Spliced in by hand: a hundred thousand levels, which a reader
    // recursing once per level without a bound would overflow the stack on.
    const DEPTH: usize = 100_000;
    let (int, boolean) = (with_type(Type::Int), with_type(Type::Bool));
    let at = one_byte_apart(payload(&int), payload(&boolean));
    assert_eq!(payload(&int)[at], TYPE_INT);
    let mut spliced = payload(&int)[..at].to_vec();
    spliced.extend(std::iter::repeat_n(TYPE_SET, DEPTH));
    spliced.extend_from_slice(&payload(&int)[at..]);
    match Artifact::decode(&seal(&spliced)) {
        Err(ArtifactError::Decode(_)) => {}
        other => panic!("a type nested {DEPTH} deep: {other:?}"),
    }

    // The same for a value: a constant `[[[…]]]`.
    let with_const = |b: bool| {
        let mut a = artifact();
        a.program.consts.push(Value::Bool(b));
        a.encode().expect("encodes")
    };
    let (no, yes) = (with_const(false), with_const(true));
    let at = one_byte_apart(payload(&no), payload(&yes));
    // `Value::Bool(false)`: the variant index, then the byte that differs.
    let mut spliced = payload(&no)[..at - 1].to_vec();
    for _ in 0..DEPTH {
        spliced.extend_from_slice(&[VALUE_SET, 1]);
    }
    spliced.extend_from_slice(&[VALUE_SET, 0]);
    spliced.extend_from_slice(&payload(&no)[at + 1..]);
    match Artifact::decode(&seal(&spliced)) {
        Err(ArtifactError::Decode(_)) => {}
        other => panic!("a value nested {DEPTH} deep: {other:?}"),
    }
}

/// Generated policies hold every kind of constant, decimals and money
/// among them: each artifact decodes to what was encoded.
#[test]
fn generated_artifacts_load_back() {
    for seed in 0..50 {
        let schema = actpol_gen::schema(seed);
        let policy = actpol_gen::policy(seed, &schema);
        let artifact = actpol_compiler::compile(&policy, [0; 32]).expect("compiles");
        let bytes = artifact.encode().expect("encodes");
        assert_eq!(Artifact::decode(&bytes), Ok(artifact), "policy seed {seed}");
    }
}

/// A loaded program keeps no spare capacity in its tables: they live as
/// long as the policy does, and a table grown by doubling can hold as much
/// again as slack.
#[test]
fn a_program_keeps_no_spare_capacity() {
    fn tight(p: &actpol_bytecode::Program) -> bool {
        p.code.capacity() == p.code.len()
            && p.blocks.capacity() == p.blocks.len()
            && p.rules.capacity() == p.rules.len()
            && p.consts.capacity() == p.consts.len()
            && p.explain.capacity() == p.explain.len()
            && p.index.capacity() == p.index.len()
            && p.index
                .iter()
                .all(|a| a.any_agent.capacity() == a.any_agent.len())
    }
    let compiled = artifact();
    assert!(compiled.program.code.len() > 4, "the test policy has code");
    assert!(tight(&compiled.program), "the compiler left slack");
    let bytes = compiled.encode().expect("encodes");
    let decoded = Artifact::decode(&bytes).expect("decodes");
    assert!(tight(&decoded.program), "decoding left slack");
}
