-- role 'direction': direction staff by function (a deputy head) in the local directory;
-- it counts only where the agent is also 'attached'.
ALTER TABLE agent_uais DROP CONSTRAINT agent_uais_role_check;
ALTER TABLE agent_uais ADD CONSTRAINT agent_uais_role_check
    CHECK (role IN ('attached', 'responsible', 'direction'));
