CREATE TABLE agent_uais_old (
    agent_id BIGINT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    uai TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('attached', 'responsible')),
    PRIMARY KEY (agent_id, uai, role)
);
INSERT INTO agent_uais_old (agent_id, uai, role)
    SELECT agent_id, uai, role FROM agent_uais WHERE role <> 'direction';
DROP TABLE agent_uais;
ALTER TABLE agent_uais_old RENAME TO agent_uais;
CREATE INDEX agent_uais_uai ON agent_uais (uai, role);
