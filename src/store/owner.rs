//! Whose a connection is, as a typed value at the store boundary: stored as
//! the key `user:<id>` or `org:<id>` (so no data migration), read back as an
//! [`Owner`]; a stored key of neither shape fails the read.

use std::fmt;

use sea_orm::{
    sea_query::{ArrayType, ColumnType, Nullable, StringLen, Value, ValueType, ValueTypeErr},
    ColIdx, DbErr, QueryResult, TryGetError, TryGetable,
};

/// The owner of a connection.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Owner {
    /// A user's own connection (LinkedIn, calendars).
    User(String),
    /// An organization's connection (ATS).
    Organization(String),
}

impl Owner {
    /// The stored key: `user:<id>` or `org:<id>`.
    pub fn key(&self) -> String {
        self.to_string()
    }

    /// Parses a stored key.
    pub fn parse(key: &str) -> Option<Self> {
        let (kind, id) = key.split_once(':')?;
        if id.is_empty() {
            return None;
        }
        match kind {
            "user" => Some(Owner::User(id.to_owned())),
            "org" => Some(Owner::Organization(id.to_owned())),
            _ => None,
        }
    }
}

impl fmt::Display for Owner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Owner::User(id) => write!(f, "user:{id}"),
            Owner::Organization(id) => write!(f, "org:{id}"),
        }
    }
}

impl From<Owner> for Value {
    fn from(owner: Owner) -> Self {
        Value::String(Some(Box::new(owner.key())))
    }
}

impl TryGetable for Owner {
    fn try_get_by<I: ColIdx>(res: &QueryResult, index: I) -> Result<Self, TryGetError> {
        let key = String::try_get_by(res, index)?;
        Owner::parse(&key)
            .ok_or_else(|| TryGetError::DbErr(DbErr::Type(format!("not an owner key: {key:.16}"))))
    }
}

impl ValueType for Owner {
    fn try_from(v: Value) -> Result<Self, ValueTypeErr> {
        match v {
            Value::String(Some(key)) => Owner::parse(&key).ok_or(ValueTypeErr),
            _ => Err(ValueTypeErr),
        }
    }

    fn type_name() -> String {
        "Owner".to_owned()
    }

    fn array_type() -> ArrayType {
        ArrayType::String
    }

    fn column_type() -> ColumnType {
        ColumnType::String(StringLen::N(140))
    }
}

impl Nullable for Owner {
    fn null() -> Value {
        Value::String(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip() {
        for owner in [Owner::User("u:1".into()), Owner::Organization("o1".into())] {
            assert_eq!(Owner::parse(&owner.key()), Some(owner));
        }
        assert_eq!(Owner::parse("user:"), None);
        assert_eq!(Owner::parse("team:x"), None);
        assert_eq!(Owner::parse("nothing"), None);
    }
}
