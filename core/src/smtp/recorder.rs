//! The step recorder: the steps and transcript of one attempt, each step reported live as it
//! starts and ends. Shared by SMTP, the receiver's login and the send operation.

use std::time::Instant;

use crate::diagnosis::{Failure, FailureKind, Progress, Stage, Step};

/// Steps and transcript of one attempt, reported live through `progress`.
pub struct Recorder<'a> {
    pub steps: Vec<Step>,
    pub transcript: Vec<String>,
    progress: &'a mut (dyn FnMut(Progress) + Send),
    current: Option<(Stage, Instant)>,
}

impl<'a> Recorder<'a> {
    pub fn new(progress: &'a mut (dyn FnMut(Progress) + Send)) -> Recorder<'a> {
        Recorder { steps: Vec::new(), transcript: Vec::new(), progress, current: None }
    }

    pub fn start(&mut self, stage: Stage) {
        self.current = Some((stage, Instant::now()));
        (self.progress)(Progress::Started { stage });
    }

    pub fn finish(&mut self, ok: bool, detail: impl Into<String>) {
        let (stage, t0) = self.current.take().expect("a step was started");
        let step = Step { stage, ok, ms: t0.elapsed().as_millis() as u64, detail: detail.into() };
        (self.progress)(Progress::Finished { step: step.clone() });
        self.steps.push(step);
    }

    /// Ends the running step as failed at `stage` (which may differ, e.g. a reset seen while
    /// waiting for the banner is a `connect` failure).
    pub(crate) fn fail(&mut self, failure: Failure) -> Failure {
        if let Some((_, t0)) = self.current.take() {
            let step = Step { stage: failure.stage, ok: false, ms: t0.elapsed().as_millis() as u64, detail: failure.error.clone() };
            (self.progress)(Progress::Finished { step: step.clone() });
            self.steps.push(step);
        }
        failure
    }

    /// Runs one step: starts it, awaits `work`, records success with the detail it returns.
    pub(crate) async fn step<T>(&mut self, stage: Stage, work: impl std::future::Future<Output = Result<(T, String), Failure>>) -> Result<T, Failure> {
        self.start(stage);
        match work.await {
            Ok((value, detail)) => {
                self.finish(true, detail);
                Ok(value)
            }
            Err(f) => Err(self.fail(f)),
        }
    }

    /// A failure before its step was started (e.g. an unreadable CA file).
    pub(crate) fn fail_now(&mut self, stage: Stage, kind: FailureKind, error: String) -> Failure {
        self.start(stage);
        self.fail(Failure::new(stage, kind, error))
    }

    /// Ends the running step as failed at `stage`.
    pub fn fail_at(&mut self, stage: Stage, kind: FailureKind, error: String) -> Failure {
        self.fail(Failure::new(stage, kind, error))
    }

    /// The stage of the step that is running, if any.
    pub fn running(&self) -> Option<Stage> {
        self.current.map(|(s, _)| s)
    }

    /// Ends the running step as failed because the admin cancelled.
    pub fn cancel_running(&mut self) {
        if let Some((stage, _)) = self.current {
            self.fail(Failure::cancelled(stage));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cancelled_step_carries_its_kind() {
        let mut seen = Vec::new();
        let mut sink = |p: Progress| seen.push(p);
        let mut rec = Recorder::new(&mut sink);
        rec.start(Stage::Auth);
        assert_eq!(rec.running(), Some(Stage::Auth));
        rec.cancel_running();
        assert_eq!(rec.running(), None);
        assert_eq!(rec.steps.len(), 1);
        assert!(!rec.steps[0].ok && rec.steps[0].stage == Stage::Auth && rec.steps[0].detail == crate::diagnosis::CANCELLED);
        let f = Failure::cancelled(Stage::Auth);
        assert_eq!((f.stage, f.kind, f.error.as_str()), (Stage::Auth, FailureKind::Cancelled, "Cancelled by the user"));
    }
}
