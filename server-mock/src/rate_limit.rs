//! Sliding-window attempt counters, in SQLite (`http_rate_hits`): a restart forgets nothing, so
//! restarting the server never hands out fresh guesses. Keys are hashes or addresses, never a
//! contract number in clear. Expired hits are pruned by the maintenance task, so the table does
//! not grow with each new key.

use rusqlite::{params, Connection};

/// Records an attempt for `key` at `now` unless `limit` attempts already happened in the last
/// `window` seconds; then returns the seconds until the oldest one expires.
pub fn hit(
    conn: &Connection,
    key: &str,
    limit: u32,
    window: i64,
    now: i64,
) -> rusqlite::Result<Result<(), u64>> {
    let (count, oldest): (i64, Option<i64>) = conn.query_row(
        "SELECT COUNT(*), MIN(at) FROM http_rate_hits WHERE key = ?1 AND at > ?2",
        params![key, now - window],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    if count >= i64::from(limit) {
        let oldest = oldest.unwrap_or(now);
        return Ok(Err((oldest + window - now).max(1) as u64));
    }
    conn.execute(
        "INSERT INTO http_rate_hits (key, at) VALUES (?1, ?2)",
        params![key, now],
    )?;
    Ok(Ok(()))
}

/// Deletes hits older than `window` seconds, a bounded batch at a time.
pub fn prune(conn: &Connection, now: i64, window: i64, batch: u32) -> rusqlite::Result<usize> {
    conn.execute(
        "DELETE FROM http_rate_hits WHERE rowid IN (
             SELECT rowid FROM http_rate_hits WHERE at <= ?1 LIMIT ?2)",
        params![now - window, batch],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE http_rate_hits (key TEXT NOT NULL, at INTEGER NOT NULL)")
            .unwrap();
        conn
    }

    #[test]
    fn the_window_slides() {
        let c = conn();
        assert_eq!(hit(&c, "k", 2, 60, 0).unwrap(), Ok(()));
        assert_eq!(hit(&c, "k", 2, 60, 10).unwrap(), Ok(()));
        assert_eq!(hit(&c, "k", 2, 60, 20).unwrap(), Err(40));
        assert_eq!(hit(&c, "other", 2, 60, 20).unwrap(), Ok(()));
        assert_eq!(hit(&c, "k", 2, 60, 61).unwrap(), Ok(()));
    }

    #[test]
    fn pruning_forgets_only_expired_hits() {
        let c = conn();
        for t in 0..10 {
            hit(&c, &format!("k{t}"), 5, 60, t).unwrap().unwrap();
        }
        assert_eq!(prune(&c, 65, 60, 3).unwrap(), 3);
        assert_eq!(prune(&c, 65, 60, 100).unwrap(), 3);
        let left: i64 = c
            .query_row("SELECT COUNT(*) FROM http_rate_hits", [], |r| r.get(0))
            .unwrap();
        assert_eq!(left, 4);
    }
}
