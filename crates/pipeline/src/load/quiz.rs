//! Knowledge checks: the `quiz` block and its questions, checked with every
//! problem reported at its line.

use toml::Spanned;

use super::Checker;
use crate::config::{BlockTable, QuestionTable};
use crate::diagnostic::suggest;
use crate::model::{Choice, Question, QuestionKind, Quiz};

const TYPES: [&str; 4] = ["single", "multiple", "true-false", "text"];

impl Checker<'_> {
    /// A `quiz` block's questions and options. `id` is the block's id.
    pub(super) fn quiz(&mut self, b: &BlockTable, id: &str, body: Option<String>) -> Quiz {
        let mut questions: Vec<Question> = Vec::new();
        for q in &b.questions {
            let Some(question) = self.question(q) else {
                continue;
            };
            if questions.iter().any(|x| x.id == question.id) {
                self.error(
                    q.id.span(),
                    format!("quiz `{id}` has two questions `{}`", question.id),
                    "give each question of a quiz its own id",
                );
                continue;
            }
            questions.push(question);
        }
        let required = b.required.as_ref().is_none_or(|r| *r.get_ref());
        if b.questions.is_empty() {
            let help = "add `[[session.block.questions]]` tables with `id`, `type`, `prompt` and the answer";
            if required {
                self.error(
                    b.kind.span(),
                    format!("quiz `{id}` is required but has no questions"),
                    help,
                );
            } else {
                self.warn(b.kind.span(), format!("quiz `{id}` has no questions"), help);
            }
        }
        let draw = b.draw.as_ref().and_then(|d| {
            let n = *d.get_ref();
            if n == 0 || n as usize > b.questions.len() {
                self.error(
                    d.span(),
                    format!(
                        "`draw = {n}` but quiz `{id}` has {} question(s)",
                        b.questions.len()
                    ),
                    format!(
                        "draw from 1 to {} questions, or add questions to the bank",
                        b.questions.len().max(1)
                    ),
                );
                None
            } else {
                Some(n)
            }
        });
        let attempts = b.attempts.as_ref().and_then(|a| {
            if *a.get_ref() == 0 {
                self.error(
                    a.span(),
                    "`attempts` must be at least 1",
                    "leave `attempts` out for unlimited attempts",
                );
                None
            } else {
                Some(*a.get_ref())
            }
        });
        Quiz {
            body,
            questions,
            draw,
            attempts,
            shuffle: b.shuffle.as_ref().is_some_and(|s| *s.get_ref()),
        }
    }

    fn question(&mut self, q: &QuestionTable) -> Option<Question> {
        let id = self.short_id(&q.id, "question");
        let kind_name = q.kind.get_ref().as_str();
        let prompt = self.non_empty(&q.prompt, "question prompt");
        let explanation = q.explanation.as_ref().map(|e| e.get_ref().clone());
        // Which keys each type takes, beside id, type, prompt and explanation.
        let present = [
            ("options", q.options.first().map(|o| o.id.span())),
            ("answer", q.answer.as_ref().map(Spanned::span)),
            ("accept", q.accept.first().map(Spanned::span)),
        ];
        let takes: &str = match kind_name {
            "single" | "multiple" => "options",
            "true-false" => "answer",
            "text" => "accept",
            other => {
                let help = suggest(other, &TYPES, "use one of");
                self.error(
                    q.kind.span(),
                    format!("unknown question type `{other}`"),
                    help,
                );
                return None;
            }
        };
        for (key, span) in present {
            if let Some(span) = span
                && key != takes
            {
                self.error(
                    span,
                    format!("`{key}` does not apply to a {kind_name} question"),
                    format!("a {kind_name} question takes `{takes}`"),
                );
            }
        }
        let kind = match kind_name {
            "single" | "multiple" => {
                let mut options: Vec<Choice> = Vec::new();
                for o in &q.options {
                    let oid = self.short_id(&o.id, "option");
                    if options.iter().any(|c| c.id == oid) {
                        self.error(
                            o.id.span(),
                            format!("question `{id}` has two options `{oid}`"),
                            "give each option of a question its own id",
                        );
                        continue;
                    }
                    options.push(Choice {
                        id: oid,
                        text: self.non_empty(&o.text, "option text"),
                        correct: o.correct.as_ref().is_some_and(|c| *c.get_ref()),
                        feedback: o.feedback.as_ref().map(|f| f.get_ref().clone()),
                    });
                }
                let right = options.iter().filter(|c| c.correct).count();
                if q.options.len() < 2 {
                    self.error(
                        q.kind.span(),
                        format!("question `{id}` has {} option(s)", q.options.len()),
                        "give a choice question at least two `options`",
                    );
                } else if right == 0 {
                    self.error(
                        q.kind.span(),
                        format!("question `{id}` has no correct option"),
                        "mark the right option(s) with `correct = true`",
                    );
                } else if right > 1 && kind_name == "single" {
                    let span = q
                        .options
                        .iter()
                        .filter(|o| o.correct.as_ref().is_some_and(|c| *c.get_ref()))
                        .nth(1)
                        .and_then(|o| o.correct.as_ref())
                        .map_or(q.kind.span(), Spanned::span);
                    self.error(
                        span,
                        format!("single-choice question `{id}` has {right} correct options"),
                        "keep one `correct = true`, or make it `type = \"multiple\"`",
                    );
                }
                if kind_name == "single" {
                    QuestionKind::Single(options)
                } else {
                    QuestionKind::Multiple(options)
                }
            }
            "true-false" => match &q.answer {
                Some(a) => QuestionKind::TrueFalse(*a.get_ref()),
                None => {
                    self.error(
                        q.kind.span(),
                        format!("true-false question `{id}` has no `answer`"),
                        "add `answer = true` or `answer = false`",
                    );
                    return None;
                }
            },
            _ => {
                let accept: Vec<String> = q
                    .accept
                    .iter()
                    .map(|a| a.get_ref().clone())
                    .filter(|a| !a.trim().is_empty())
                    .collect();
                if accept.is_empty() {
                    self.error(
                        q.kind.span(),
                        format!("text question `{id}` accepts no answer"),
                        "add `accept = [\"...\"]` with every answer to count as right",
                    );
                }
                QuestionKind::Text(accept)
            }
        };
        Some(Question {
            id,
            prompt,
            explanation,
            kind,
        })
    }

    /// An id that is unique within its quiz or question only.
    fn short_id(&mut self, id: &Spanned<String>, what: &str) -> String {
        let v = id.get_ref();
        if !super::values::spelled_as_id(v, 32, true) {
            self.error(
                id.span(),
                format!("`{v}` is not a valid {what} id"),
                "use lower-case letters, digits and `-` (32 characters at most)",
            );
        }
        v.clone()
    }
}
