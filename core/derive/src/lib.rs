//! `#[derive(Settings)]`: a settings struct of the configuration model is the one declaration of
//! its keys. Each field says, in a `#[setting(...)]` attribute, what kind of value its key takes,
//! its default and its label; the derive turns that into the key table, typed reading and
//! writing by key name, inheritance and typed getters (see `core/src/settings.rs`, which
//! defines the trait this implements and documents the attribute).
//!
//! Field attributes:
//! - `kind = EXPR, label = "…"` (and optionally `default = EXPR`, typed as the field's value;
//!   `client_only`: a key of clients only; `own`: not inherited from the global server);
//! - `secret, label = "…"` on a `Keychain` marker: a key whose value lives in the OS keychain;
//! - `group` (optionally `label = "Prefix"`): a nested settings struct, keys `field.<its key>`;
//! - `flatten` (optionally `client_only_keys`): a nested settings struct whose keys sit at this
//!   level of the document (a client's or route's own server);
//! - `skip`: a field of the document that is not a key (a client's templates).
//!
//! A field without `#[setting]` is a compile error: nothing is in the model without saying
//! what key it is.

use proc_macro::TokenStream;
use proc_macro2::TokenStream as Tokens;
use quote::quote;
use syn::{parse_macro_input, Data, DeriveInput, Expr, Fields, GenericArgument, LitStr, PathArguments, Type};

enum Role {
    Key { kind: Expr, label: LitStr, default: Option<Expr>, client_only: bool, own: bool },
    Secret { label: LitStr },
    Group { label: Option<LitStr> },
    Flatten { client_only_keys: bool },
    Skip,
}

struct Declared {
    ident: syn::Ident,
    ty: Type,
    role: Role,
}

#[proc_macro_derive(Settings, attributes(setting))]
pub fn derive_settings(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    match expand(&input) {
        Ok(tokens) => tokens.into(),
        Err(e) => e.to_compile_error().into(),
    }
}

fn parse_role(field: &syn::Field) -> syn::Result<Role> {
    let ident = field.ident.as_ref().expect("named field");
    let Some(attr) = field.attrs.iter().find(|a| a.path().is_ident("setting")) else {
        return Err(syn::Error::new_spanned(ident, "every field of a settings struct says which key it is: #[setting(kind = …, label = …)], #[setting(group)], #[setting(flatten)] or #[setting(skip)]"));
    };
    let (mut kind, mut label, mut default) = (None, None, None);
    let (mut client_only, mut own, mut secret, mut group, mut flatten, mut skip, mut client_only_keys) = (false, false, false, false, false, false, false);
    attr.parse_nested_meta(|meta| {
        let p = &meta.path;
        if p.is_ident("kind") {
            kind = Some(meta.value()?.parse::<Expr>()?);
        } else if p.is_ident("label") {
            label = Some(meta.value()?.parse::<LitStr>()?);
        } else if p.is_ident("default") {
            default = Some(meta.value()?.parse::<Expr>()?);
        } else if p.is_ident("client_only") {
            client_only = true;
        } else if p.is_ident("own") {
            own = true;
        } else if p.is_ident("secret") {
            secret = true;
        } else if p.is_ident("group") {
            group = true;
        } else if p.is_ident("flatten") {
            flatten = true;
        } else if p.is_ident("client_only_keys") {
            client_only_keys = true;
        } else if p.is_ident("skip") {
            skip = true;
        } else {
            return Err(meta.error("unknown setting attribute"));
        }
        Ok(())
    })?;
    let err = |m: &str| syn::Error::new_spanned(ident, m);
    Ok(if skip {
        Role::Skip
    } else if flatten {
        Role::Flatten { client_only_keys }
    } else if group {
        Role::Group { label }
    } else if secret {
        Role::Secret { label: label.ok_or_else(|| err("a secret needs a label"))? }
    } else {
        Role::Key {
            kind: kind.ok_or_else(|| err("a key needs `kind = …`"))?,
            label: label.ok_or_else(|| err("a key needs `label = \"…\"`"))?,
            default,
            client_only,
            own,
        }
    })
}

/// `T` of `Option<T>`.
fn option_inner(ty: &Type) -> Option<&Type> {
    let Type::Path(p) = ty else { return None };
    let last = p.path.segments.last()?;
    if last.ident != "Option" {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else { return None };
    match args.args.first()? {
        GenericArgument::Type(t) => Some(t),
        _ => None,
    }
}

fn is_ident(ty: &Type, name: &str) -> bool {
    matches!(ty, Type::Path(p) if p.path.is_ident(name))
}

fn expand(input: &DeriveInput) -> syn::Result<Tokens> {
    let name = &input.ident;
    let Data::Struct(data) = &input.data else { return Err(syn::Error::new_spanned(name, "Settings: structs only")) };
    let Fields::Named(fields) = &data.fields else { return Err(syn::Error::new_spanned(name, "Settings: named fields only")) };
    let mut declared = Vec::new();
    for f in &fields.named {
        declared.push(Declared { ident: f.ident.clone().expect("named"), ty: f.ty.clone(), role: parse_role(f)? });
    }

    let s = quote!(crate::settings);
    let (mut collect, mut get, mut set, mut inherit, mut visit, mut getters) = (vec![], vec![], vec![], vec![], vec![], vec![]);
    let mut get_tail = quote!(None);
    let mut set_tail = quote!(Ok(false));
    let mut visit_tail = quote!(Ok(false));
    for d in &declared {
        let ident = &d.ident;
        let ty = &d.ty;
        let key = ident.to_string();
        match &d.role {
            Role::Key { kind, label, default, client_only, own } => {
                let inner = option_inner(ty).ok_or_else(|| syn::Error::new_spanned(ty, "a key's field is an Option: unset means default or inherited"))?;
                let is_string = is_ident(inner, "String");
                let default_text = match default {
                    Some(e) if is_string => quote!(Some(#s::default_text(&{ let v: &str = #e; v }))),
                    Some(e) => quote!(Some(#s::default_text(&{ let v: #inner = #e; v }))),
                    None => quote!(None),
                };
                collect.push(quote! {
                    if client_only == #client_only {
                        out.push(#s::Field::declared(prefix, #key, #kind, #default_text, label_prefix, #label, !#own));
                    }
                });
                let shown = if is_string {
                    quote!(self.#ident.as_deref().map(::std::borrow::Cow::Borrowed))
                } else if is_ident(inner, "bool") {
                    quote!(self.#ident.map(|b| ::std::borrow::Cow::Borrowed(if b { "true" } else { "false" })))
                } else if is_ident(inner, "u16") || is_ident(inner, "u32") || is_ident(inner, "u64") {
                    quote!(self.#ident.map(|n| ::std::borrow::Cow::Owned(n.to_string())))
                } else {
                    quote!(self.#ident.as_ref().map(|v| ::std::borrow::Cow::Owned(#s::default_text(v))))
                };
                get.push(quote!(#key => return #shown,));
                set.push(quote!(#key => { self.#ident = #s::from_json(value)?; return Ok(true); }));
                inherit.push(if *own { quote!(#ident: self.#ident.clone(),) } else { quote!(#ident: self.#ident.clone().or_else(|| parent.#ident.clone()),) });
                visit.push(quote!(#key => self.#ident = map.next_value()?,));
                if let Some(e) = default {
                    let doc = format!("`{key}` in force: the stored value, else its default.");
                    getters.push(if is_string {
                        quote! { #[doc = #doc] pub fn #ident(&self) -> &str { self.#ident.as_deref().unwrap_or(#e) } }
                    } else {
                        quote! { #[doc = #doc] pub fn #ident(&self) -> #inner { self.#ident.unwrap_or(#e) } }
                    });
                }
            }
            Role::Secret { label } => {
                collect.push(quote! {
                    if !client_only {
                        out.push(#s::Field::declared(prefix, #key, #s::Kind::Secret, None, label_prefix, #label, true));
                    }
                });
                inherit.push(quote!(#ident: #s::Keychain,));
            }
            Role::Group { label } => {
                let group_label = match label {
                    Some(l) => quote!(Some(#l)),
                    None => quote!(None),
                };
                let dotted = format!("{key}.");
                collect.push(quote! {
                    <#ty as #s::Settings>::collect_fields(&format!("{prefix}{}", #dotted), #group_label, client_only, out);
                });
                get.push(quote!(_ if name.starts_with(#dotted) => return self.#ident.get(&name[#dotted.len()..]),));
                set.push(quote!(_ if name.starts_with(#dotted) => return self.#ident.set(&name[#dotted.len()..], value),));
                inherit.push(quote!(#ident: self.#ident.inherit(&parent.#ident),));
                visit.push(quote!(#key => self.#ident = map.next_value()?,));
            }
            Role::Flatten { client_only_keys } => {
                if *client_only_keys {
                    collect.push(quote! {
                        if !client_only {
                            <#ty as #s::Settings>::collect_fields(prefix, label_prefix, true, out);
                        }
                    });
                }
                get_tail = quote!(self.#ident.get(name));
                set_tail = quote!(self.#ident.set(name, value));
                visit_tail = quote!(self.#ident.visit_field(key, map));
                inherit.push(quote!(#ident: self.#ident.inherit(&parent.#ident),));
            }
            Role::Skip => {
                inherit.push(quote!(#ident: self.#ident.clone(),));
                visit.push(quote!(#key => self.#ident = map.next_value()?,));
            }
        }
    }

    Ok(quote! {
        impl #s::Settings for #name {
            fn collect_fields(prefix: &str, label_prefix: Option<&str>, client_only: bool, out: &mut Vec<#s::Field>) {
                #(#collect)*
            }

            fn get(&self, name: &str) -> Option<::std::borrow::Cow<'_, str>> {
                match name {
                    #(#get)*
                    _ => {}
                }
                #get_tail
            }

            fn set(&mut self, name: &str, value: Option<::serde_json::Value>) -> Result<bool, ::serde_json::Error> {
                match name {
                    #(#set)*
                    _ => {}
                }
                #set_tail
            }

            fn inherit(&self, parent: &Self) -> Self {
                #name { #(#inherit)* }
            }

            fn visit_field<'de, A: ::serde::de::MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<bool, A::Error> {
                match key {
                    #(#visit)*
                    _ => return #visit_tail,
                }
                Ok(true)
            }
        }

        impl #name {
            /// Nothing set: the document leaves it out.
            pub fn is_empty(&self) -> bool {
                *self == <#name as ::std::default::Default>::default()
            }

            #(#getters)*
        }
    })
}
