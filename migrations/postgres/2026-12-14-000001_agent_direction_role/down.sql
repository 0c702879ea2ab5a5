DELETE FROM agent_uais WHERE role = 'direction';
ALTER TABLE agent_uais DROP CONSTRAINT agent_uais_role_check;
ALTER TABLE agent_uais ADD CONSTRAINT agent_uais_role_check
    CHECK (role IN ('attached', 'responsible'));
