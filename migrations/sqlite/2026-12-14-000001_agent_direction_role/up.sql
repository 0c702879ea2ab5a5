-- role 'direction': direction staff by function (a deputy head) in the local directory;
-- it counts only where the agent is also 'attached'. SQLite cannot change a CHECK: the table
-- is rebuilt (nothing references it).
CREATE TABLE agent_uais_new (
    agent_id BIGINT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    uai TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('attached', 'responsible', 'direction')),
    PRIMARY KEY (agent_id, uai, role)
);
INSERT INTO agent_uais_new (agent_id, uai, role) SELECT agent_id, uai, role FROM agent_uais;
DROP TABLE agent_uais;
ALTER TABLE agent_uais_new RENAME TO agent_uais;
CREATE INDEX agent_uais_uai ON agent_uais (uai, role);
