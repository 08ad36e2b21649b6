//! Diesel table definitions shared by both backends (portable types only).
// @generated-like: kept by hand, see diesel.toml.

diesel::table! {
    users (id) {
        id -> BigInt,
        email -> Text,
        password_hash -> Text,
        full_name -> Text,
        roles -> Text,
        is_active -> Bool,
        two_factor_enabled -> Bool,
        failed_login_count -> Integer,
        locked_until -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        last_login_at -> Nullable<Timestamp>,
        totp_secret -> Nullable<Text>,
        totp_pending_secret -> Nullable<Text>,
        totp_last_step -> Nullable<BigInt>,
        must_change_password -> Bool,
    }
}

diesel::table! {
    sessions (id) {
        id -> BigInt,
        user_id -> BigInt,
        created_at -> Timestamp,
        last_seen_at -> Timestamp,
        expires_at -> Timestamp,
        ip_address -> Nullable<Text>,
        user_agent -> Nullable<Text>,
        device_name -> Nullable<Text>,
        revoked -> Bool,
        revoked_at -> Nullable<Timestamp>,
        revoked_reason -> Nullable<Text>,
    }
}

diesel::table! {
    tokens (id) {
        id -> BigInt,
        jti -> Text,
        token_hash -> Text,
        token_type -> Text,
        user_id -> BigInt,
        user_email -> Text,
        session_id -> Nullable<BigInt>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        revoked -> Bool,
        revoked_at -> Nullable<Timestamp>,
        revoked_reason -> Nullable<Text>,
        expired -> Bool,
        user_agent -> Nullable<Text>,
        ip_address -> Nullable<Text>,
        key_id -> Nullable<Text>,
        last_used_at -> Nullable<Timestamp>,
        attempts -> Integer,
    }
}

diesel::table! {
    audit_events (id) {
        id -> BigInt,
        event -> Text,
        user_id -> Nullable<BigInt>,
        user_email -> Nullable<Text>,
        ip_address -> Nullable<Text>,
        user_agent -> Nullable<Text>,
        created_at -> Timestamp,
        details -> Text,
    }
}

diesel::table! {
    signing_keys (id) {
        id -> BigInt,
        kid -> Text,
        algorithm -> Text,
        private_key -> Text,
        public_key -> Nullable<Text>,
        created_at -> Timestamp,
        retired_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    server_state (name) {
        name -> Text,
        value -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    recovery_codes (id) {
        id -> BigInt,
        user_id -> BigInt,
        code_hash -> Text,
        created_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(recovery_codes -> users (user_id));
diesel::joinable!(tokens -> users (user_id));
diesel::joinable!(tokens -> sessions (session_id));

diesel::allow_tables_to_appear_in_same_query!(
    users,
    sessions,
    tokens,
    audit_events,
    signing_keys,
    server_state,
    recovery_codes,
);
