// One schema for both backends. Ids are BigInt everywhere (BIGSERIAL / INTEGER PRIMARY KEY).

diesel::table! {
    establishments (id) {
        id -> BigInt,
        uai -> Text,
        name -> Text,
        kind -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        last_import_year -> Nullable<Text>,
        last_import_exported_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    agents (id) {
        id -> BigInt,
        uid -> Text,
        display_name -> Text,
        mail -> Nullable<Text>,
        password_hash -> Nullable<Text>,
        disabled -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    agent_uais (agent_id, uai, role) {
        agent_id -> BigInt,
        uai -> Text,
        role -> Text,
    }
}

diesel::table! {
    identifiants (id) {
        id -> BigInt,
        identifiant -> Text,
        kind -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    pupils (id) {
        id -> BigInt,
        uai -> Text,
        identifiant -> Text,
        ine -> Nullable<Text>,
        last_name -> Text,
        first_name -> Text,
        search_name -> Text,
        birth_date -> Date,
        division -> Nullable<Text>,
        state -> Text,
        password_hash -> Nullable<Text>,
        must_change -> Bool,
        provisional_expires_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        notified_at -> Nullable<Timestamp>,
        activated_at -> Nullable<Timestamp>,
        password_changed_at -> Nullable<Timestamp>,
        previous_state -> Nullable<Text>,
        siecle_id -> Nullable<Text>,
        departure_date -> Nullable<Date>,
        provisional_removed_at -> Nullable<Timestamp>,
        state_checked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    parents (id) {
        id -> BigInt,
        identifiant -> Text,
        last_name -> Text,
        first_name -> Text,
        search_name -> Text,
        email -> Nullable<Text>,
        mobile -> Nullable<Text>,
        state -> Text,
        activation_path -> Nullable<Text>,
        password_hash -> Nullable<Text>,
        must_change -> Bool,
        provisional_expires_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        notified_at -> Nullable<Timestamp>,
        activated_at -> Nullable<Timestamp>,
        password_changed_at -> Nullable<Timestamp>,
        previous_state -> Nullable<Text>,
        provisional_removed_at -> Nullable<Timestamp>,
        state_checked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    pupil_parents (pupil_id, parent_id) {
        pupil_id -> BigInt,
        parent_id -> BigInt,
        legal_rank -> SmallInt,
    }
}

diesel::table! {
    audit_head (id) {
        id -> Integer,
        seq -> BigInt,
        hash -> Text,
    }
}

diesel::table! {
    audit_events (seq) {
        seq -> BigInt,
        at -> Timestamp,
        actor -> Text,
        uai -> Nullable<Text>,
        action -> Text,
        target_kind -> Nullable<Text>,
        target_id -> Nullable<Text>,
        outcome -> Text,
        delegation_id -> Nullable<BigInt>,
        gate -> Nullable<Text>,
        peer_addr -> Nullable<Text>,
        client_addr -> Nullable<Text>,
        request_id -> Nullable<Text>,
        details -> Nullable<Text>,
        prev_hash -> Text,
        hash -> Text,
    }
}

diesel::table! {
    sessions (id) {
        id -> BigInt,
        token_hash -> Text,
        agent_uid -> Text,
        display_name -> Text,
        mail -> Nullable<Text>,
        attached -> Text,
        responsible -> Text,
        csrf_token -> Text,
        created_at -> Timestamp,
        last_seen_at -> Timestamp,
        directory_checked_at -> Timestamp,
        totp_verified_at -> Nullable<Timestamp>,
        via -> Nullable<Text>,
        sso_session -> Nullable<Text>,
        sso_subject -> Nullable<Text>,
        reauth_state -> Nullable<Text>,
        reauthenticated_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    login_throttle (key) {
        key -> Text,
        failures -> BigInt,
        window_start -> Timestamp,
        blocked_until -> Nullable<Timestamp>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    delegations (id) {
        id -> BigInt,
        uai -> Text,
        grantee_uid -> Text,
        grantee_name -> Text,
        scope -> Text,
        valid_from -> Date,
        valid_until -> Date,
        motive -> Text,
        granted_by -> Text,
        granted_at -> Timestamp,
        extended_by -> Nullable<Text>,
        extended_at -> Nullable<Timestamp>,
        revoked_by -> Nullable<Text>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    batches (id) {
        id -> BigInt,
        idempotency_key -> Text,
        kind -> Text,
        uai -> Text,
        division -> Text,
        states -> Text,
        created_by -> Text,
        created_at -> Timestamp,
        lease_owner -> Nullable<Text>,
        lease_until -> Nullable<Timestamp>,
        printed_at -> Nullable<Timestamp>,
        wiped_at -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        acting_uid -> Nullable<Text>,
        interruption -> Nullable<Text>,
        gate -> Nullable<Text>,
        abandoned_by -> Nullable<Text>,
        abandoned_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    batch_items (id) {
        id -> BigInt,
        batch_id -> BigInt,
        account_id -> BigInt,
        position -> Integer,
        status -> Text,
        sealed_password -> Nullable<Text>,
        done_at -> Nullable<Timestamp>,
        account_kind -> Text,
        claimed -> Bool,
    }
}

diesel::table! {
    agent_totp (agent_uid) {
        agent_uid -> Text,
        sealed_secret -> Text,
        created_at -> Timestamp,
        confirmed_at -> Nullable<Timestamp>,
        last_step -> Nullable<BigInt>,
        failures -> BigInt,
        window_start -> Nullable<Timestamp>,
        locked_until -> Nullable<Timestamp>,
    }
}

diesel::table! {
    parent_sources (uai, personne_id) {
        uai -> Text,
        personne_id -> Text,
        parent_id -> BigInt,
    }
}

diesel::table! {
    pending_transfers (id) {
        id -> BigInt,
        pupil_id -> BigInt,
        from_uai -> Text,
        to_uai -> Text,
        siecle_id -> Text,
        ine -> Text,
        last_name -> Text,
        first_name -> Text,
        birth_date -> Date,
        division -> Nullable<Text>,
        requested_by -> Text,
        requested_at -> Timestamp,
    }
}

diesel::table! {
    job_leases (name) {
        name -> Text,
        owner -> Nullable<Text>,
        expires_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    pending_account_writes (started_seq) {
        started_seq -> BigInt,
        account_kind -> Text,
        account_id -> BigInt,
        started_at -> Timestamp,
    }
}

diesel::joinable!(pending_transfers -> pupils (pupil_id));
diesel::joinable!(agent_uais -> agents (agent_id));
diesel::joinable!(pupil_parents -> pupils (pupil_id));
diesel::joinable!(pupil_parents -> parents (parent_id));
diesel::joinable!(batch_items -> batches (batch_id));

diesel::allow_tables_to_appear_in_same_query!(
    establishments,
    agents,
    agent_uais,
    identifiants,
    pupils,
    parents,
    pupil_parents,
    audit_head,
    audit_events,
    sessions,
    login_throttle,
    delegations,
    batches,
    batch_items,
    agent_totp,
    parent_sources,
    pending_transfers,
    job_leases,
    pending_account_writes,
);
