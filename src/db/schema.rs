// One schema for both backends; the per-backend migrations create identical shapes.

diesel::table! {
    users (id) {
        id -> BigInt,
        email -> Text,
        password_hash -> Text,
        role -> Text,
        institution_id -> Nullable<BigInt>,
        learner_id -> Nullable<BigInt>,
        disabled -> Bool,
        token_version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> BigInt,
        user_id -> BigInt,
        family_id -> Text,
        token_hash -> Text,
        issued_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    web_sessions (token_hash) {
        token_hash -> Text,
        user_id -> BigInt,
        token_version -> BigInt,
        csrf_token -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    account_links (token_hash) {
        token_hash -> Text,
        purpose -> Text,
        learner_id -> Nullable<BigInt>,
        user_id -> Nullable<BigInt>,
        email -> Text,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    occupations (code) {
        code -> Text,
        name -> Text,
        high_skill_catalog -> Bool,
        technician_catalog -> Bool,
        priority_industry -> Bool,
        source -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    institutions (id) {
        id -> BigInt,
        name -> Text,
        kind -> Text,
        assessed -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    designations (id) {
        id -> BigInt,
        institution_id -> BigInt,
        batch -> Text,
        designated_from -> Date,
        designated_until -> Nullable<Date>,
        end_reason -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    partnerships (id) {
        id -> BigInt,
        institution_id -> BigInt,
        partner_name -> Text,
        partner_kind -> Text,
        partner_institution_id -> Nullable<BigInt>,
        started_on -> Date,
        ended_on -> Nullable<Date>,
        agreement_ref -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    designation_applications (id) {
        id -> BigInt,
        institution_id -> BigInt,
        state -> Text,
        run_by_industry -> Bool,
        goals -> Text,
        industry_need -> Text,
        partnership_evidence -> Text,
        separate_departments -> Bool,
        organisation_evidence -> Text,
        facilities_evidence -> Text,
        yearly_training_volume -> Integer,
        volume_evidence -> Text,
        submitted_on -> Nullable<Date>,
        notice_from -> Nullable<Date>,
        notice_until -> Nullable<Date>,
        rectification_due -> Nullable<Date>,
        designation_id -> Nullable<BigInt>,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    designation_application_projects (application_id, occupation_code) {
        application_id -> BigInt,
        occupation_code -> Text,
        name -> Text,
    }
}

diesel::table! {
    designation_steps (id) {
        id -> BigInt,
        application_id -> BigInt,
        step -> Text,
        from_state -> Text,
        to_state -> Text,
        body -> Nullable<Text>,
        body_name -> Nullable<Text>,
        decision -> Nullable<Text>,
        reason -> Nullable<Text>,
        document_ref -> Nullable<Text>,
        decided_on -> Date,
        details -> Text,
        actor -> Nullable<BigInt>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    training_deliveries (id) {
        id -> BigInt,
        institution_id -> BigInt,
        delivered_on -> Date,
        kind -> Text,
        occupation_code -> Text,
        level -> Text,
        person_times -> Integer,
        note -> Nullable<Text>,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    teacher_years (id) {
        id -> BigInt,
        institution_id -> BigInt,
        year -> Integer,
        staff_number -> Text,
        name -> Text,
        dual_qualified -> Bool,
        integrated -> Bool,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    teacher_development (id) {
        id -> BigInt,
        institution_id -> BigInt,
        held_on -> Date,
        kind -> Text,
        person_times -> Integer,
        description -> Text,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    programs (id) {
        id -> BigInt,
        institution_id -> BigInt,
        name -> Text,
        occupation_code -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    program_related_occupations (program_id, occupation_code) {
        program_id -> BigInt,
        occupation_code -> Text,
    }
}

diesel::table! {
    learners (id) {
        id -> BigInt,
        name -> Text,
        kind -> Text,
        email -> Nullable<Text>,
        preferred_language -> Text,
        hukou -> Nullable<Text>,
        residence_permit_since -> Nullable<Date>,
        social_insurance_since -> Nullable<Date>,
        income_tax_in_shanghai -> Nullable<Bool>,
        insurance_base_at_least_average_6_of_12 -> Nullable<Bool>,
        education_level -> Nullable<Text>,
        education_occupation_codes -> Text,
        birth_date -> Nullable<Date>,
        id_number_ciphertext -> Nullable<Text>,
        id_number_hash -> Nullable<Text>,
        id_number_masked -> Nullable<Text>,
        registered_by_institution_id -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        erased_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    learner_kind_changes (id) {
        id -> BigInt,
        learner_id -> BigInt,
        kind -> Text,
        effective_from -> Date,
        recorded_by -> Nullable<BigInt>,
        recorded_at -> Timestamp,
    }
}

diesel::table! {
    cohorts (id) {
        id -> BigInt,
        program_id -> BigInt,
        name -> Text,
        intake_year -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    enrollments (id) {
        id -> BigInt,
        learner_id -> BigInt,
        program_id -> BigInt,
        cohort_id -> Nullable<BigInt>,
        start_date -> Date,
        end_date -> Date,
        full_time -> Bool,
        status -> Text,
        class_type -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    employments (id) {
        id -> BigInt,
        learner_id -> BigInt,
        employer_name -> Text,
        employer_institution_id -> Nullable<BigInt>,
        occupation_code -> Text,
        post_title -> Text,
        start_date -> Date,
        end_date -> Nullable<Date>,
        in_shanghai -> Bool,
        frontline -> Bool,
        dedicated_trainer -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    awards (id) {
        id -> BigInt,
        learner_id -> BigInt,
        kind -> Text,
        title -> Text,
        awarded_on -> Date,
        created_at -> Timestamp,
    }
}

diesel::table! {
    certificates (id) {
        id -> BigInt,
        learner_id -> BigInt,
        number -> Text,
        number_format -> Text,
        kind -> Text,
        level -> Text,
        occupation_code -> Text,
        issuer -> Text,
        issued_on -> Date,
        status -> Text,
        warnings -> Text,
        submitted_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    certificate_decisions (id) {
        id -> BigInt,
        certificate_id -> BigInt,
        decision -> Text,
        from_status -> Text,
        to_status -> Text,
        reason -> Text,
        decided_by -> BigInt,
        decided_at -> Timestamp,
    }
}

diesel::table! {
    audit_log (id) {
        id -> BigInt,
        actor_user_id -> Nullable<BigInt>,
        action -> Text,
        entity_type -> Text,
        entity_id -> Text,
        summary -> Text,
        created_at -> Timestamp,
    }
}

diesel::joinable!(refresh_tokens -> users (user_id));
diesel::joinable!(web_sessions -> users (user_id));
diesel::joinable!(designations -> institutions (institution_id));
diesel::joinable!(partnerships -> institutions (institution_id));
diesel::joinable!(designation_application_projects -> designation_applications (application_id));
diesel::joinable!(designation_steps -> designation_applications (application_id));
diesel::joinable!(programs -> institutions (institution_id));
diesel::joinable!(program_related_occupations -> programs (program_id));
diesel::joinable!(cohorts -> programs (program_id));
diesel::joinable!(enrollments -> learners (learner_id));
diesel::joinable!(enrollments -> programs (program_id));
diesel::joinable!(employments -> learners (learner_id));
diesel::joinable!(awards -> learners (learner_id));
diesel::joinable!(certificates -> learners (learner_id));
diesel::joinable!(certificate_decisions -> certificates (certificate_id));
diesel::joinable!(learner_kind_changes -> learners (learner_id));

diesel::allow_tables_to_appear_in_same_query!(
    users,
    refresh_tokens,
    web_sessions,
    account_links,
    occupations,
    institutions,
    designations,
    partnerships,
    designation_applications,
    designation_application_projects,
    designation_steps,
    training_deliveries,
    teacher_years,
    teacher_development,
    programs,
    program_related_occupations,
    learners,
    learner_kind_changes,
    cohorts,
    enrollments,
    employments,
    awards,
    certificates,
    certificate_decisions,
    audit_log,
    rule_parameters,
    learner_milestones,
    milestone_events,
    notification_outbox,
    inbox_messages,
    notification_preferences,
    signing_keys,
    shares,
    share_accesses,
    jobs,
    progress_snapshots,
    calendar_feeds,
    calendar_entries,
    correction_requests,
    deletion_requests,
    allowance_windows,
    erasures_in_progress,
);

diesel::table! {
    rule_parameters (id) {
        id -> BigInt,
        name -> Text,
        occupation_code -> Nullable<Text>,
        value -> Text,
        effective_from -> Date,
        effective_until -> Nullable<Date>,
        source -> Text,
        clause -> Text,
        note -> Text,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    progress_snapshots (learner_id) {
        learner_id -> BigInt,
        valid_from -> Date,
        valid_until -> Nullable<Date>,
        parameters_version -> Text,
        computed_at -> Timestamp,
        packed_body -> Binary,
    }
}

diesel::table! {
    learner_milestones (learner_id, milestone_key) {
        learner_id -> BigInt,
        milestone_key -> Text,
        rule_id -> Text,
        status -> Text,
        eligible_from -> Nullable<Date>,
        payload -> Text,
        parameters_version -> Text,
        computed_at -> Timestamp,
    }
}

diesel::table! {
    milestone_events (id) {
        id -> BigInt,
        learner_id -> BigInt,
        milestone_key -> Text,
        rule_id -> Text,
        event -> Text,
        before -> Nullable<Text>,
        after -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    notification_outbox (id) {
        id -> BigInt,
        learner_id -> Nullable<BigInt>,
        user_id -> Nullable<BigInt>,
        event_key -> Text,
        channel -> Text,
        category -> Text,
        kind -> Text,
        payload -> Text,
        status -> Text,
        attempts -> Integer,
        due_at -> Timestamp,
        lease_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
        secret -> Nullable<Text>,
    }
}

diesel::table! {
    inbox_messages (id) {
        id -> BigInt,
        learner_id -> Nullable<BigInt>,
        user_id -> Nullable<BigInt>,
        outbox_id -> BigInt,
        category -> Text,
        title_zh -> Text,
        title_en -> Text,
        body_zh -> Text,
        body_en -> Text,
        created_at -> Timestamp,
        read_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    notification_preferences (learner_id) {
        learner_id -> BigInt,
        settings -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    signing_keys (kid) {
        kid -> Text,
        algorithm -> Text,
        public_key -> Text,
        private_key -> Text,
        created_at -> Timestamp,
        retired_at -> Nullable<Timestamp>,
        signed_until -> Nullable<Timestamp>,
    }
}

diesel::table! {
    shares (id) {
        id -> BigInt,
        learner_id -> BigInt,
        code_hash -> Text,
        purpose -> Text,
        recipient_institution_id -> Nullable<BigInt>,
        certificate_ids -> Text,
        milestone_keys -> Text,
        kid -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
        consent_version -> Nullable<Text>,
        consent_text -> Nullable<Text>,
        consented_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    share_accesses (id) {
        id -> BigInt,
        learner_id -> BigInt,
        share_id -> Nullable<BigInt>,
        user_id -> BigInt,
        institution_id -> Nullable<BigInt>,
        basis -> Text,
        accessed_at -> Timestamp,
    }
}

diesel::table! {
    jobs (id) {
        id -> BigInt,
        kind -> Text,
        payload -> Text,
        dedupe_key -> Text,
        status -> Text,
        attempts -> Integer,
        due_at -> Timestamp,
        lease_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        finished_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    calendar_feeds (learner_id) {
        learner_id -> BigInt,
        token_hash -> Text,
        created_at -> Timestamp,
        last_fetched_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    calendar_entries (learner_id, milestone_key, moment) {
        learner_id -> BigInt,
        milestone_key -> Text,
        moment -> Text,
        on_date -> Date,
        summary -> Text,
        description -> Text,
        alarm_days -> Text,
        sequence -> Integer,
        cancelled -> Bool,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    correction_requests (id) {
        id -> BigInt,
        learner_id -> BigInt,
        record -> Text,
        record_id -> Nullable<BigInt>,
        changes -> Text,
        current_values -> Text,
        reason -> Text,
        institution_id -> Nullable<BigInt>,
        status -> Text,
        requested_by -> Nullable<BigInt>,
        decided_by -> Nullable<BigInt>,
        decision_reason -> Nullable<Text>,
        created_at -> Timestamp,
        decided_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    deletion_requests (learner_id) {
        learner_id -> BigInt,
        requested_by -> Nullable<BigInt>,
        requested_at -> Timestamp,
        erase_after -> Timestamp,
    }
}

diesel::table! {
    allowance_windows (key) {
        key -> Text,
        used -> Integer,
        ends_at -> Timestamp,
    }
}

diesel::table! {
    erasures_in_progress (learner_id) {
        learner_id -> BigInt,
    }
}
