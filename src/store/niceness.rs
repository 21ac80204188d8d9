//! Background work yields the CPU: a thread that prepares what nobody waits for yet runs at
//! a lower scheduling priority than the threads serving requests and reading from Graph.
//!
//! WHY (#11): on a 2-core appliance a first sync's list preparation (`index/prebuild/`) took
//! up to half a core beside the sync's own Graph reading, the writer and the web server, and
//! the kernel shared the cores out evenly: the Graph reading (a chain of requests, each
//! waiting for a core) and the pages people load waited on work whose result is needed only
//! at the round's end. At a higher nice value the preparation still uses every idle cycle;
//! it only stops taking turns from work someone is waiting on.

/// How many steps lower: enough that the scheduler favours the others about nine to one (each nice
/// step is ~1.25× less weight), not so low that a busy appliance never gets to it.
const BACKGROUND_NICE: i32 = 10;

/// The lowest priority there is (the highest nice value).
const LOWEST: i32 = 19;

/// Lower the calling thread's priority by [`BACKGROUND_NICE`] steps (relative: a service run
/// niced already goes lower still). Linux applies nice values per thread (the thread id as
/// the process id), and lowering one's own needs no privilege. Best effort: a refusal only
/// costs the ordering, so it is logged at debug and ignored.
pub(crate) fn lower_this_thread() {
    let tid = rustix::thread::gettid();
    let lowered = rustix::process::getpriority_process(Some(tid)).and_then(|now| {
        rustix::process::setpriority_process(Some(tid), (now + BACKGROUND_NICE).min(LOWEST))
    });
    if let Err(e) = lowered {
        tracing::debug!(error = %e, "could not lower a background thread's priority");
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn lowers_only_the_calling_thread() {
        let before = rustix::process::getpriority_process(None).unwrap_or_default();
        let inside = std::thread::spawn(|| {
            super::lower_this_thread();
            rustix::process::getpriority_process(Some(rustix::thread::gettid()))
        })
        .join()
        .expect("thread");
        assert_eq!(
            inside.ok(),
            Some((before + super::BACKGROUND_NICE).min(super::LOWEST))
        );
        let after = rustix::process::getpriority_process(None).unwrap_or_default();
        assert_eq!(after, before, "the calling thread keeps its priority");
    }
}
