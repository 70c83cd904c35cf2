//! Walking pages one item at a time: search results (`SearchPages`) and a job's results (`jobs::ResultPages`)
//! share this shape, so the binding layer has one iterator design for both.

use std::collections::{HashSet, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::error::Result;
use super::jobs::{self, EnrichmentResult, JobRef, Snapshot};
use super::models::{Listed, Person};
use super::people::SearchCursor;
use super::transport::Client;

/// Items of a paged listing, fetched a page at a time. A fetch that fails or is interrupted (its future dropped)
/// loses nothing: the next call fetches the same page again.
pub trait Pages: Send + 'static {
    type Item: Send + 'static;

    /// The next item already fetched, without any I/O.
    fn buffered(&mut self) -> Option<Self::Item>;

    /// The next item, fetching the next page when the buffer is empty; `None` once the listing is over.
    fn next_item(&mut self) -> impl Future<Output = Result<Option<Self::Item>>> + Send;
}

/// The people (or companies) of a search, page after page (see `SearchCursor` for when the walk ends).
pub struct SearchPages<T = Person> {
    client: Client,
    cursor: SearchCursor<T>,
    buffer: VecDeque<T>,
}

impl<T: Listed> SearchPages<T> {
    pub fn new(client: Client, cursor: SearchCursor<T>) -> Self {
        SearchPages {
            client,
            cursor,
            buffer: VecDeque::new(),
        }
    }
}

impl<T: Listed> Pages for SearchPages<T> {
    type Item = T;

    fn buffered(&mut self) -> Option<T> {
        self.buffer.pop_front()
    }

    async fn next_item(&mut self) -> Result<Option<T>> {
        loop {
            if let Some(p) = self.buffer.pop_front() {
                return Ok(Some(p));
            }
            // The cursor moves only once a page has arrived, so an error or an interrupt retries the same page.
            match self.cursor.next_page(&self.client).await? {
                Some(people) => self.buffer.extend(people),
                None => return Ok(None),
            }
        }
    }
}

/// Pages of a job's results, with the next one fetched in the background while the current one is read.
///
/// An interrupted or failed fetch is never the end: the page is fetched again on the next call, so a Ctrl-C or a
/// network error in the middle of the results loses none of them.
pub struct ResultPages {
    client: Client,
    job: JobRef,
    page_size: u32,
    next: Next,
    buffer: VecDeque<EnrichmentResult>,
    /// Next links already followed: a server pointing back at one of them would replay pages forever.
    followed: HashSet<String>,
}

enum Next {
    First,
    Fetching {
        href: String,
        task: tokio::task::JoinHandle<Result<Snapshot>>,
    },
    /// Fetch `href` in the foreground (its background fetch failed or was interrupted).
    Again(String),
    Done,
}

impl ResultPages {
    pub fn new(client: Client, job: JobRef, page_size: u32) -> Self {
        ResultPages {
            client,
            job,
            page_size,
            next: Next::First,
            buffer: VecDeque::new(),
            followed: HashSet::new(),
        }
    }

    async fn fetch(&mut self) -> Result<Option<EnrichmentResult>> {
        loop {
            if let Some(r) = self.buffer.pop_front() {
                return Ok(Some(r));
            }
            let snap = match &mut self.next {
                Next::Done => return Ok(None),
                Next::First => jobs::get(&self.client, &self.job, Some(self.page_size)).await?,
                Next::Again(href) => jobs::follow(&self.client, self.job.kind, href).await?,
                Next::Fetching { href, task } => match AbortIfDropped::new(task).await {
                    Ok(Ok(snap)) => snap,
                    Ok(Err(e)) => {
                        self.next = Next::Again(href.clone());
                        return Err(e);
                    }
                    Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                    // Aborted when an earlier call was interrupted while waiting for it.
                    Err(_) => {
                        self.next = Next::Again(href.clone());
                        continue;
                    }
                },
            };
            self.next = match snap.next.clone().filter(|href| self.followed.insert(href.clone())) {
                Some(href) => {
                    let (client, kind, target) = (self.client.clone(), self.job.kind, href.clone());
                    let task = tokio::spawn(async move { jobs::follow(&client, kind, &target).await });
                    Next::Fetching { href, task }
                }
                None => Next::Done,
            };
            self.buffer.extend(snap.results);
        }
    }
}

impl Drop for ResultPages {
    fn drop(&mut self) {
        if let Next::Fetching { task, .. } = &self.next {
            task.abort();
        }
    }
}

/// Awaits a background task, aborting it when the awaiting stops first (Ctrl-C, a cancelled asyncio task), so an
/// interrupted call leaves no request running.
struct AbortIfDropped<'a, T> {
    task: &'a mut tokio::task::JoinHandle<T>,
    finished: bool,
}

impl<'a, T> AbortIfDropped<'a, T> {
    fn new(task: &'a mut tokio::task::JoinHandle<T>) -> Self {
        AbortIfDropped { task, finished: false }
    }
}

impl<T> Future for AbortIfDropped<'_, T> {
    type Output = std::result::Result<T, tokio::task::JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let polled = Pin::new(&mut *self.task).poll(cx);
        self.finished = polled.is_ready();
        polled
    }
}

impl<T> Drop for AbortIfDropped<'_, T> {
    fn drop(&mut self) {
        if !self.finished {
            self.task.abort();
        }
    }
}

impl Pages for ResultPages {
    type Item = EnrichmentResult;

    fn buffered(&mut self) -> Option<EnrichmentResult> {
        self.buffer.pop_front()
    }

    fn next_item(&mut self) -> impl Future<Output = Result<Option<EnrichmentResult>>> + Send {
        self.fetch()
    }
}
