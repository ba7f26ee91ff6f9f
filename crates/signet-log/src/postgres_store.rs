//! The PostgreSQL backend: several engine instances on one database serve
//! one log.
//!
//! Every instance accepts appends. A sequencing step is one transaction
//! that starts with `SELECT … FOR UPDATE` on the log's state row, so
//! exactly one instance sequences at a time; the others queue on the row
//! lock and then read the state (and the edge tiles, and the identities)
//! the previous step committed. If an instance dies mid-step, PostgreSQL
//! aborts its transaction and releases the lock: nothing half-written
//! remains, so there is no gap and no fork. Durability is PostgreSQL's
//! (`synchronous_commit`, WAL fsync); replication, if any, is PostgreSQL's
//! own. Connections are plain TCP without TLS: put the database on a
//! trusted network or a local socket.

use std::collections::HashMap;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use signet_tlog::Hash;
use tokio::sync::Mutex;
use tokio_postgres::{Client, NoTls};

use crate::entry::LogEntry;
use crate::error::LogError;
use crate::storage::{
    Integrator, LogStore, SequenceInput, Sequenced, StoredCheckpoints, StoredTile, TreeState,
    edge_tile_ids, hashes_from_bytes, hashes_to_bytes, to_i64,
};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS signet_log_state (
    log text PRIMARY KEY,
    size bigint NOT NULL,
    root bytea NOT NULL,
    checkpoint bytea NOT NULL,
    history_size bigint NOT NULL
);
CREATE TABLE IF NOT EXISTS signet_log_entries (
    log text NOT NULL,
    idx bigint NOT NULL,
    identity bytea NOT NULL,
    leaf bytea NOT NULL,
    integrated_time bigint NOT NULL,
    data bytea NOT NULL,
    PRIMARY KEY (log, idx)
);
CREATE UNIQUE INDEX IF NOT EXISTS signet_log_entries_identity ON signet_log_entries (log, identity);
CREATE INDEX IF NOT EXISTS signet_log_entries_leaf ON signet_log_entries (log, leaf);
CREATE TABLE IF NOT EXISTS signet_log_tiles (
    log text NOT NULL,
    level smallint NOT NULL,
    idx bigint NOT NULL,
    data bytea NOT NULL,
    PRIMARY KEY (log, level, idx)
);
CREATE TABLE IF NOT EXISTS signet_log_checkpoints (
    log text NOT NULL,
    size bigint NOT NULL,
    note bytea NOT NULL,
    PRIMARY KEY (log, size)
);
";

/// Advisory lock key that serialises schema creation between instances
/// starting together (`CREATE … IF NOT EXISTS` is not safe concurrently).
const SCHEMA_LOCK: i64 = 0x5349_474e_4554_4c47;

/// A log in a PostgreSQL database, named so that one database can hold several.
pub struct PostgresStore {
    url: String,
    log: String,
    writer: Mutex<Option<Client>>,
    reader: Mutex<Option<Arc<Client>>>,
}

fn pg(e: tokio_postgres::Error) -> LogError {
    LogError::Storage(format!("postgres: {e}"))
}

fn u64_of(v: i64, what: &str) -> Result<u64, LogError> {
    u64::try_from(v).map_err(|_| LogError::Corrupt(format!("stored {what} {v} is negative")))
}

fn hash_of(v: &[u8], what: &str) -> Result<Hash, LogError> {
    Hash::from_slice(v)
        .map_err(|_| LogError::Corrupt(format!("stored {what} is {} bytes", v.len())))
}

async fn connect(url: &str) -> Result<Client, LogError> {
    let (client, connection) = tokio_postgres::connect(url, NoTls).await.map_err(pg)?;
    tokio::spawn(async move {
        // The connection ends when the client is dropped or the server goes away.
        let _ = connection.await;
    });
    Ok(client)
}

fn state_of(row: &tokio_postgres::Row) -> Result<TreeState, LogError> {
    Ok(TreeState {
        size: u64_of(row.try_get(0).map_err(pg)?, "tree size")?,
        root: hash_of(row.try_get(1).map_err(pg)?, "root hash")?,
        checkpoint: row.try_get::<_, Vec<u8>>(2).map_err(pg)?,
        history_size: u64_of(row.try_get(3).map_err(pg)?, "history size")?,
    })
}

fn entry_of(row: &tokio_postgres::Row) -> Result<LogEntry, LogError> {
    Ok(LogEntry {
        index: u64_of(row.try_get(0).map_err(pg)?, "entry index")?,
        identity: hash_of(row.try_get(1).map_err(pg)?, "identity")?,
        leaf_hash: hash_of(row.try_get(2).map_err(pg)?, "leaf hash")?,
        integrated_time: row.try_get(3).map_err(pg)?,
        data: row.try_get(4).map_err(pg)?,
    })
}

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://user@host:port/db`),
    /// creates the tables if needed and the log `log` if it is new.
    pub async fn open(url: &str, log: &str) -> Result<Self, LogError> {
        if log.is_empty() || log.len() > 200 {
            return Err(LogError::Misuse("a log name is 1 to 200 characters".into()));
        }
        let mut client = connect(url).await?;
        let txn = client.transaction().await.map_err(pg)?;
        txn.execute("SELECT pg_advisory_xact_lock($1)", &[&SCHEMA_LOCK])
            .await
            .map_err(pg)?;
        txn.batch_execute(SCHEMA).await.map_err(pg)?;
        let empty = signet_tlog::empty_root();
        txn.execute(
            "INSERT INTO signet_log_state (log, size, root, checkpoint, history_size)
             VALUES ($1, 0, $2, ''::bytea, 0) ON CONFLICT (log) DO NOTHING",
            &[&log, &empty.0.as_slice()],
        )
        .await
        .map_err(pg)?;
        txn.commit().await.map_err(pg)?;
        Ok(Self {
            url: url.to_string(),
            log: log.to_string(),
            writer: Mutex::new(Some(client)),
            reader: Mutex::new(None),
        })
    }

    async fn read_client(&self) -> Result<Arc<Client>, LogError> {
        let mut guard = self.reader.lock().await;
        if let Some(c) = guard.as_ref()
            && !c.is_closed()
        {
            return Ok(c.clone());
        }
        let c = Arc::new(connect(&self.url).await?);
        *guard = Some(c.clone());
        Ok(c)
    }

    async fn sequence_on(
        client: &mut Client,
        log: &str,
        identities: Vec<Hash>,
        integrate: Integrator,
    ) -> Result<Sequenced, LogError> {
        let txn = client.transaction().await.map_err(pg)?;
        let row = txn
            .query_opt(
                "SELECT size, root, checkpoint, history_size FROM signet_log_state WHERE log = $1 FOR UPDATE",
                &[&log],
            )
            .await
            .map_err(pg)?
            .ok_or_else(|| LogError::Corrupt(format!("log {log:?} has no state row")))?;
        let state = state_of(&row)?;

        let edge_ids = edge_tile_ids(state.size);
        let levels: Vec<i16> = edge_ids.iter().map(|(l, _)| i16::from(*l)).collect();
        let indexes: Vec<i64> = edge_ids
            .iter()
            .map(|(_, i)| to_i64(*i, "tile index"))
            .collect::<Result<_, _>>()?;
        let rows = txn
            .query(
                "SELECT t.level, t.idx, t.data FROM signet_log_tiles t
                 JOIN unnest($2::smallint[], $3::bigint[]) AS k(level, idx)
                   ON t.level = k.level AND t.idx = k.idx
                 WHERE t.log = $1",
                &[&log, &levels, &indexes],
            )
            .await
            .map_err(pg)?;
        let mut found: HashMap<(u8, u64), Vec<Hash>> = HashMap::new();
        for r in &rows {
            let level: i16 = r.try_get(0).map_err(pg)?;
            let idx: i64 = r.try_get(1).map_err(pg)?;
            let data: &[u8] = r.try_get(2).map_err(pg)?;
            let level = u8::try_from(level)
                .map_err(|_| LogError::Corrupt(format!("tile level {level}")))?;
            found.insert(
                (level, u64_of(idx, "tile index")?),
                hashes_from_bytes(data)?,
            );
        }
        let mut edge_tiles = Vec::new();
        for (level, index) in edge_ids {
            let hashes = found.remove(&(level, index)).ok_or_else(|| {
                LogError::Corrupt(format!("edge tile {level}/{index} is missing"))
            })?;
            edge_tiles.push(StoredTile {
                level,
                index,
                hashes,
            });
        }

        let id_bytes: Vec<&[u8]> = identities.iter().map(|h| h.0.as_slice()).collect();
        let rows = txn
            .query(
                "SELECT identity, idx FROM signet_log_entries WHERE log = $1 AND identity = ANY($2)",
                &[&log, &id_bytes],
            )
            .await
            .map_err(pg)?;
        let mut known: HashMap<Hash, u64> = HashMap::new();
        for r in &rows {
            known.insert(
                hash_of(r.try_get(0).map_err(pg)?, "identity")?,
                u64_of(r.try_get(1).map_err(pg)?, "entry index")?,
            );
        }
        let existing = identities.iter().map(|i| known.get(i).copied()).collect();

        let write = integrate(SequenceInput {
            state,
            edge_tiles: edge_tiles.clone(),
            existing,
        })?;

        if !write.entries.is_empty() {
            let idx: Vec<i64> = write
                .entries
                .iter()
                .map(|e| to_i64(e.index, "entry index"))
                .collect::<Result<_, _>>()?;
            let ident: Vec<&[u8]> = write
                .entries
                .iter()
                .map(|e| e.identity.0.as_slice())
                .collect();
            let leaf: Vec<&[u8]> = write
                .entries
                .iter()
                .map(|e| e.leaf_hash.0.as_slice())
                .collect();
            let time: Vec<i64> = write.entries.iter().map(|e| e.integrated_time).collect();
            let data: Vec<&[u8]> = write.entries.iter().map(|e| e.data.as_slice()).collect();
            txn.execute(
                "INSERT INTO signet_log_entries (log, idx, identity, leaf, integrated_time, data)
                 SELECT $1, * FROM unnest($2::bigint[], $3::bytea[], $4::bytea[], $5::bigint[], $6::bytea[])",
                &[&log, &idx, &ident, &leaf, &time, &data],
            )
            .await
            .map_err(pg)?;
        }
        if !write.tiles.is_empty() {
            let levels: Vec<i16> = write.tiles.iter().map(|t| i16::from(t.level)).collect();
            let idx: Vec<i64> = write
                .tiles
                .iter()
                .map(|t| to_i64(t.index, "tile index"))
                .collect::<Result<_, _>>()?;
            let data: Vec<Vec<u8>> = write
                .tiles
                .iter()
                .map(|t| hashes_to_bytes(&t.hashes))
                .collect();
            txn.execute(
                "INSERT INTO signet_log_tiles (log, level, idx, data)
                 SELECT $1, * FROM unnest($2::smallint[], $3::bigint[], $4::bytea[])
                 ON CONFLICT (log, level, idx) DO UPDATE SET data = EXCLUDED.data",
                &[&log, &levels, &idx, &data],
            )
            .await
            .map_err(pg)?;
        }
        let size = to_i64(write.state.size, "tree size")?;
        if write.keep_in_history {
            txn.execute(
                "INSERT INTO signet_log_checkpoints (log, size, note) VALUES ($1, $2, $3)
                 ON CONFLICT (log, size) DO UPDATE SET note = EXCLUDED.note",
                &[&log, &size, &write.state.checkpoint],
            )
            .await
            .map_err(pg)?;
        }
        let history = to_i64(write.state.history_size, "history size")?;
        txn.execute(
            "UPDATE signet_log_state SET size = $2, root = $3, checkpoint = $4, history_size = $5 WHERE log = $1",
            &[&log, &size, &write.state.root.0.as_slice(), &write.state.checkpoint, &history],
        )
        .await
        .map_err(pg)?;
        txn.commit().await.map_err(pg)?;
        Ok(Sequenced { write, edge_tiles })
    }
}

impl LogStore for PostgresStore {
    fn sequence(
        &self,
        identities: Vec<Hash>,
        integrate: Integrator,
    ) -> BoxFuture<'_, Result<Sequenced, LogError>> {
        Box::pin(async move {
            let mut guard = self.writer.lock().await;
            let client = match guard.take() {
                Some(c) if !c.is_closed() => c,
                _ => connect(&self.url).await?,
            };
            let mut client = client;
            let result = Self::sequence_on(&mut client, &self.log, identities, integrate).await;
            if !client.is_closed() {
                *guard = Some(client);
            }
            result
        })
    }

    fn state(&self) -> BoxFuture<'_, Result<TreeState, LogError>> {
        Box::pin(async move {
            let c = self.read_client().await?;
            let row = c
                .query_opt(
                    "SELECT size, root, checkpoint, history_size FROM signet_log_state WHERE log = $1",
                    &[&self.log],
                )
                .await
                .map_err(pg)?;
            match row {
                Some(r) => state_of(&r),
                None => Ok(TreeState::empty()),
            }
        })
    }

    fn entries(&self, start: u64, end: u64) -> BoxFuture<'_, Result<Vec<LogEntry>, LogError>> {
        Box::pin(async move {
            if start >= end {
                return Ok(Vec::new());
            }
            let c = self.read_client().await?;
            let (s, e) = (
                to_i64(start, "index")?,
                to_i64(end.min(i64::MAX as u64), "index")?,
            );
            let rows = c
                .query(
                    "SELECT idx, identity, leaf, integrated_time, data FROM signet_log_entries
                     WHERE log = $1 AND idx >= $2 AND idx < $3 ORDER BY idx",
                    &[&self.log, &s, &e],
                )
                .await
                .map_err(pg)?;
            rows.iter().map(entry_of).collect()
        })
    }

    fn index_of_identity(&self, identity: Hash) -> BoxFuture<'_, Result<Option<u64>, LogError>> {
        Box::pin(async move {
            let c = self.read_client().await?;
            let row = c
                .query_opt(
                    "SELECT idx FROM signet_log_entries WHERE log = $1 AND identity = $2",
                    &[&self.log, &identity.0.as_slice()],
                )
                .await
                .map_err(pg)?;
            row.map(|r| u64_of(r.try_get(0).map_err(pg)?, "entry index"))
                .transpose()
        })
    }

    fn index_of_leaf(&self, leaf: Hash) -> BoxFuture<'_, Result<Option<u64>, LogError>> {
        Box::pin(async move {
            let c = self.read_client().await?;
            let row = c
                .query_opt(
                    "SELECT min(idx) FROM signet_log_entries WHERE log = $1 AND leaf = $2",
                    &[&self.log, &leaf.0.as_slice()],
                )
                .await
                .map_err(pg)?;
            match row {
                Some(r) => r
                    .try_get::<_, Option<i64>>(0)
                    .map_err(pg)?
                    .map(|v| u64_of(v, "entry index"))
                    .transpose(),
                None => Ok(None),
            }
        })
    }

    fn tiles(
        &self,
        ids: Vec<(u8, u64)>,
    ) -> BoxFuture<'_, Result<Vec<Option<Vec<Hash>>>, LogError>> {
        Box::pin(async move {
            let c = self.read_client().await?;
            let levels: Vec<i16> = ids.iter().map(|(l, _)| i16::from(*l)).collect();
            let idx: Vec<i64> = ids
                .iter()
                .map(|(_, i)| to_i64(*i, "tile index"))
                .collect::<Result<_, _>>()?;
            let rows = c
                .query(
                    "SELECT t.level, t.idx, t.data FROM signet_log_tiles t
                     JOIN unnest($2::smallint[], $3::bigint[]) AS k(level, idx)
                       ON t.level = k.level AND t.idx = k.idx
                     WHERE t.log = $1",
                    &[&self.log, &levels, &idx],
                )
                .await
                .map_err(pg)?;
            let mut found: HashMap<(i16, i64), Vec<Hash>> = HashMap::new();
            for r in &rows {
                let data: &[u8] = r.try_get(2).map_err(pg)?;
                found.insert(
                    (r.try_get(0).map_err(pg)?, r.try_get(1).map_err(pg)?),
                    hashes_from_bytes(data)?,
                );
            }
            Ok(levels
                .iter()
                .zip(&idx)
                .map(|(l, i)| found.remove(&(*l, *i)))
                .collect())
        })
    }

    fn checkpoints(
        &self,
        from_size: u64,
        limit: usize,
    ) -> BoxFuture<'_, Result<StoredCheckpoints, LogError>> {
        Box::pin(async move {
            let c = self.read_client().await?;
            let from = to_i64(from_size, "tree size")?;
            let limit = i64::try_from(limit).unwrap_or(i64::MAX);
            let rows = c
                .query(
                    "SELECT size, note FROM signet_log_checkpoints WHERE log = $1 AND size >= $2 ORDER BY size LIMIT $3",
                    &[&self.log, &from, &limit],
                )
                .await
                .map_err(pg)?;
            rows.iter()
                .map(|r| {
                    Ok((
                        u64_of(r.try_get(0).map_err(pg)?, "tree size")?,
                        r.try_get(1).map_err(pg)?,
                    ))
                })
                .collect()
        })
    }
}
