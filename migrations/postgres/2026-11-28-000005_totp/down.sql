DROP TABLE agent_totp;
